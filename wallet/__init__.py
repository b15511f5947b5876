"""wallet: see ARCHITECTURE.md."""
