"""The Audio Spectrogram Transformer: network, weight adaptation, checkpoints, initial weights."""
