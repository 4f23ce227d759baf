"""The long recording's dock: scan window/hop, progress and Cancel, event controls, the events
table, and export (CSV, JSON, Raven selection table, Audacity labels).

Emits requests only (`score_requested`, `cancel_requested`, `options_changed`,
`event_chosen`, `export_requested`); `LongView` turns them into `LongSession` calls.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ast_core.run.exports import FORMAT_NAMES, SUFFIXES

_NO_FILE = "Open a long recording to see its events."


def _spin(low: float, high: float, step: float, value: float, suffix: str = "") -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(low, high)
    s.setSingleStep(step)
    s.setDecimals(2)
    s.setValue(value)
    s.setSuffix(suffix)
    return s


class EventsPanel(QWidget):
    score_requested = Signal(float, float)  # window_s, hop_s (0 = model default)
    cancel_requested = Signal()
    options_changed = Signal(float, float, float)  # threshold, min duration, merge gap
    event_chosen = Signal(object)  # ast_core Event
    export_requested = Signal(str, str)  # path, format

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.file_label = QLabel(_NO_FILE)
        self.file_label.setWordWrap(True)
        self.window_length = _spin(0.0, 60.0, 0.5, 0.0, " s")
        self.window_length.setSpecialValueText("model's window")
        self.hop = _spin(0.0, 60.0, 0.25, 0.0, " s")
        self.hop.setSpecialValueText("half the window")
        self.score_button = QPushButton("Score again")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFormat("%p %")
        self.threshold = _spin(0.0, 1.0, 0.05, 0.5)
        self.min_duration = _spin(0.0, 600.0, 0.5, 0.0, " s")
        self.merge_gap = _spin(0.0, 600.0, 0.5, 0.0, " s")
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Label", "Start (s)", "End (s)", "Score"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.count = QLabel("")
        self.export_format = QComboBox()
        for fmt, name in FORMAT_NAMES.items():
            self.export_format.addItem(name, fmt)
        self.export_button = QPushButton("Export events…")
        self.export_button.setEnabled(False)
        self.events: list = []
        self.last_folder = str(Path.home())
        self.stem = "events"

        form = QFormLayout()
        form.addRow("Window", self.window_length)
        form.addRow("Hop", self.hop)
        buttons = QHBoxLayout()
        buttons.addWidget(self.score_button)
        buttons.addWidget(self.cancel_button)
        ev = QFormLayout()
        ev.addRow("Threshold", self.threshold)
        ev.addRow("Min. duration", self.min_duration)
        ev.addRow("Merge gap", self.merge_gap)
        export = QHBoxLayout()
        export.addWidget(self.export_format, 1)
        export.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        for part in (self.file_label, form, buttons, self.bar, ev, self.count, self.table, export):
            (layout.addLayout if isinstance(part, QHBoxLayout | QFormLayout)
             else layout.addWidget)(part)
        layout.setStretchFactor(self.table, 1)

        self.score_button.clicked.connect(
            lambda: self.score_requested.emit(self.window_length.value(), self.hop.value()))
        self.cancel_button.clicked.connect(self.cancel_requested)
        for s in (self.threshold, self.min_duration, self.merge_gap):
            s.valueChanged.connect(self._options)
        self.table.currentCellChanged.connect(lambda row, *_: self._chosen(row))
        self.table.cellClicked.connect(lambda row, _: self._chosen(row))
        self.export_button.clicked.connect(self.ask_export)

    # ------------------------------------------------------------ state shown
    def set_file(self, name: str, duration_s: float) -> None:
        self.file_label.setText(f"{name}: {duration_s / 60:.1f} min (long recording: "
                                "overview spectrogram; zoom in for detail)")
        self.stem = Path(name).stem
        self.set_events([])

    def clear_file(self) -> None:
        """No long recording on screen: no events, the opening hint."""
        self.set_events([])
        self.file_label.setText(_NO_FILE)

    def set_scoring(self, running: bool, text: str = "") -> None:
        self.cancel_button.setEnabled(running)
        self.score_button.setEnabled(not running)
        if running:
            self.bar.setValue(0)
        if text:
            self.bar.setFormat(text)

    def set_progress(self, fraction: float) -> None:
        self.bar.setValue(round(fraction * 1000))

    def set_events(self, events: list) -> None:
        self.events = list(events)
        self.table.blockSignals(True)
        self.table.setRowCount(len(events))
        for row, e in enumerate(events):
            for col, text in enumerate([e.label, f"{e.start_s:.2f}", f"{e.end_s:.2f}",
                                        f"{e.score:.3f}"]):
                item = QTableWidgetItem(text)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        self.table.blockSignals(False)
        self.count.setText(f"{len(events)} events" if events else "No events.")
        self.export_button.setEnabled(bool(events))

    # ------------------------------------------------------------ user actions
    def _options(self) -> None:
        self.options_changed.emit(self.threshold.value(), self.min_duration.value(),
                                  self.merge_gap.value())

    def _chosen(self, row: int) -> None:
        if 0 <= row < len(self.events):
            self.event_chosen.emit(self.events[row])

    def ask_export(self) -> None:
        fmt = self.export_format.currentData()
        filt = f"{FORMAT_NAMES[fmt]} (*{Path(SUFFIXES[fmt]).suffix})"
        start = str(Path(self.last_folder) / (self.stem + SUFFIXES[fmt]))
        path, _ = QFileDialog.getSaveFileName(self, "Export events", start, filt)
        if path:
            self.last_folder = str(Path(path).parent)
            self.export_requested.emit(path, fmt)
