"""catalog: see ARCHITECTURE.md."""
