"""Live mode: what the microphone hears, tagged as it happens."""
