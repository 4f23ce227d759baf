"""The few user-facing errors of the core; `str(e)` is one line fit to show a user."""

from __future__ import annotations

import os


class AstStudioError(Exception):
    """Base of the errors a user can cause and fix (bad file, missing model)."""


class AudioError(AstStudioError):
    """A file that cannot be used as audio; names the file and the reason."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ModelError(AstStudioError):
    """A model or checkpoint that cannot be found, read or used."""
