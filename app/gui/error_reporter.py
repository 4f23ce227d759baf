"""One clear message at a time: errors queue behind the box on screen; details go to the log."""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.gui.log import log, log_path

_UNEXPECTED = "Something went wrong: {kind}: {text}\n\nThe details are in the log ({path})."


class ErrorReporter(QObject):
    """Shows errors as non-blocking message boxes, one at a time, never twice in a row."""

    shown = Signal(str)  # the text of each message as it appears

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self._parent = parent
        self._queue: deque[tuple[str, str]] = deque()
        self._box: QMessageBox | None = None
        self.history: list[str] = []

    def report(self, exc: BaseException, title: str = "AST Studio") -> None:
        """Show a worker's or a handler's exception; the core's own errors are shown as they are."""
        from ast_core.errors import AstStudioError  # core errors are Qt-free and torch-free

        log.error("%s", title, exc_info=(type(exc), exc, exc.__traceback__))
        if isinstance(exc, AstStudioError):
            text = str(exc)
        else:
            text = _UNEXPECTED.format(kind=type(exc).__name__, text=exc, path=log_path())
        self.message(text, title)

    def message(self, text: str, title: str = "AST Studio") -> None:
        log.warning("message: %s", text)
        if (self._box is not None and self._box.text() == text) or (title, text) in self._queue:
            return
        self._queue.append((title, text))
        if self._box is None:
            self._next()

    def _next(self) -> None:
        if not self._queue:
            self._box = None
            return
        title, text = self._queue.popleft()
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok,
                          self._parent)
        box.finished.connect(self._closed)
        self._box = box
        self.history.append(text)
        box.open()
        self.shown.emit(text)

    def _closed(self) -> None:
        if self._box is not None:
            self._box.deleteLater()
        self._box = None
        self._next()
