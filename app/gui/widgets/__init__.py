"""Views shared by the product areas: spectrogram, waveform, axes, playback."""
