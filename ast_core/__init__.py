"""AST Studio core: audio, the Audio Spectrogram Transformer, running it, live tagging, storage.

Qt-free by contract; see ARCHITECTURE.md at the repo root for the layers and why. Import
submodules directly; this package imports nothing heavy at import time.
"""
