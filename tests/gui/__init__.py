"""Widget and window tests (pytest-qt, offscreen)."""
