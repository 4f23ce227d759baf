"""Threshold events of live mode in a table, exported to CSV atomically in a worker."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.gui import workers
from ast_core.live.analyzer import LiveEvent

COLUMNS = ["time_s", "label", "score", "clock", "snippet"]


def events_csv(events: list[LiveEvent]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    for e in events:
        w.writerow([f"{e.time_s:.3f}", e.label, f"{e.score:.4f}",
                    time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.wall_time)),
                    str(e.snippet or "")])
    return out.getvalue()


def _write(path: str, text: str) -> Path:
    from ast_core.store.atomic import atomic_write_text

    return atomic_write_text(path, text)


class LiveEvents(QWidget):
    exported = Signal(str)
    failed = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.events: list[LiveEvent] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(["Time (s)", "Label", "Score", "Clock", "Audio"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.export_button = QPushButton("Export CSV…")
        self.clear_button = QPushButton("Clear")
        self.note = QLabel()
        row = QHBoxLayout()
        row.addWidget(QLabel("<b>Events</b>"))
        row.addStretch(1)
        row.addWidget(self.note)
        row.addWidget(self.clear_button)
        row.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.table)
        self.export_button.clicked.connect(lambda: self.export())
        self.clear_button.clicked.connect(self.clear)

    def add(self, events: list[LiveEvent]) -> None:
        for e in events:
            self.events.append(e)
            r = self.table.rowCount()
            self.table.insertRow(r)
            clock = time.strftime("%H:%M:%S", time.localtime(e.wall_time))
            cells = [f"{e.time_s:.2f}", e.label, f"{e.score:.2f}", clock,
                     e.snippet.name if e.snippet else ""]
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        if events:
            self.table.scrollToBottom()

    def clear(self) -> None:
        self.events.clear()
        self.table.setRowCount(0)

    def export(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export events", "live-events.csv",
                                                  "CSV (*.csv)")
        if not path:
            return
        self.note.setText("exporting…")
        workers.start(_write, path, events_csv(list(self.events)),
                      on_result=lambda p: self._done(str(p)), on_error=self._failed)

    def _done(self, path: str) -> None:
        self.note.setText(f"saved {Path(path).name}")
        self.exported.emit(path)

    def _failed(self, exc: Exception) -> None:
        self.note.setText("export failed")
        self.failed.emit(exc)
