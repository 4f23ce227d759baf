"""Live tagging: microphone, ring buffer, the analyzer that scores the newest window."""
