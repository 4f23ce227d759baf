"""AST Studio core: audio I/O, features, the Audio Spectrogram Transformer, checkpoints, inference.

Qt-free by contract (see pyproject's import-linter section). Import submodules directly;
this package imports nothing heavy at import time.
"""
