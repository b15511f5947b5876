"""mobile_api: see ARCHITECTURE.md."""
