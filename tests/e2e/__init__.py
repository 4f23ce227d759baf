"""Whole commands and processes: the CLI, training runs, the app started in a subprocess."""
