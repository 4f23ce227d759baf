"""Helpers for the GUI tests: a main window with a model, waiting for its states, and reading
what widgets show (functions that take the widget, so production classes carry no test-only
methods)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMessageBox, QWidget

    from app.gui.clip.labels_panel import LabelsPanel
    from app.gui.dialogs.model_picker import ModelPicker
    from app.gui.dialogs.train_plots import ConfusionTable
    from app.gui.main_window import MainWindow
    from app.gui.widgets.file_stream import FileStream

WAIT_MS = 60_000
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"  # gitignored screenshots


def make_window(qtbot, model: Path | str | None = None) -> MainWindow:
    """A shown MainWindow; with `model`, that model is remembered and loaded at start."""
    from app.gui import workers
    from app.gui.main_window import MainWindow
    from app.gui.settings import Settings

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


def label_rows(panel: LabelsPanel) -> list[tuple[str, float]]:
    """The (label, score) rows the Labels panel shows, top to bottom."""
    rows = [panel.list.itemWidget(panel.list.item(i)) for i in range(panel.list.count())]
    return [(row.label, row.score) for row in rows]


def installed_names(picker: ModelPicker) -> list[str]:
    """The names in the model picker's Installed list, in order."""
    return [picker.installed.item(i).text().split("  —  ")[0]
            for i in range(picker.installed.count())]


def select_installed(picker: ModelPicker, name: str) -> None:
    """Select the installed model called `name` (as a click on its row does)."""
    picker.installed.setCurrentRow(installed_names(picker).index(name))


def confusion_counts(table: ConfusionTable) -> list[list[int]]:
    """The counts the confusion table shows, `[true][predicted]`."""
    return [[int(table.item(i, j).text()) for j in range(table.columnCount())]
            for i in range(table.rowCount())]


def join_reader(stream: FileStream, timeout_s: float) -> bool:
    """Wait up to `timeout_s` for the stream's reader thread to end; True when it has."""
    stream._thread.join(timeout_s)
    return not stream._thread.is_alive()


def message_box(window: QWidget) -> QMessageBox | None:
    """The message box the window shows now (the error reporter shows one at a time)."""
    from PySide6.QtWidgets import QMessageBox

    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    return boxes[-1] if boxes else None


def message_text(window: QWidget) -> str | None:
    box = message_box(window)
    return box.text() if box is not None else None


def close_message(window: QWidget) -> None:
    """Press OK on the message on screen, as a user would (the next queued one follows)."""
    from PySide6.QtWidgets import QMessageBox

    box = message_box(window)
    if box is not None:
        box.button(QMessageBox.StandardButton.Ok).click()
