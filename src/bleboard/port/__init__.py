"""port."""
