"""Long recordings: overview, streaming scores, events, playback from any point."""
