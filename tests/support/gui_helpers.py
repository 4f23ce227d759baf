"""Helpers for the GUI tests: a main window with a model, waiting for its states."""

from __future__ import annotations

from pathlib import Path

from app.gui import workers
from app.gui.main_window import MainWindow
from app.gui.settings import Settings

WAIT_MS = 60_000


def make_window(qtbot, model: Path | str | None = None) -> MainWindow:
    """A shown MainWindow; with `model`, that model is remembered and loaded at start."""
    settings = Settings()
    if model is not None:
        settings.set("model", str(model))
    window = MainWindow(settings)
    qtbot.addWidget(window, before_close_func=lambda w: workers.wait_all(30_000))
    window.show()
    qtbot.waitUntil(lambda: window.model_state != "loading", timeout=WAIT_MS)
    return window


def wait_classified(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.analysis is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.spectrogram.spectrogram is not None, timeout=WAIT_MS)
