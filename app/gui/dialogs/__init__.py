"""Dialogs, one per module, each with its Qt-free job beside it."""
