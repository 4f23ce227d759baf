"""One clip: its analysis, labels, per-window timeline, and the session owning the model."""
