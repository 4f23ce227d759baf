"""Audio in: decode and resample files to 16-kHz mono, stream blocks, read ahead, fbank features."""

SAMPLE_RATE = 16_000
"""The one rate the model hears (Hz): every file, recording and microphone is resampled to it."""
