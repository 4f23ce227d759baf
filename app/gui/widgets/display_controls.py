"""Colour map and dB range of the spectrogram (a small form for a dock)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QWidget
from superqt import QLabeledRangeSlider

from app.gui.widgets.spectrogram_view import COLORMAPS

DB_MIN, DB_MAX = -120, 60


class DisplayControls(QWidget):
    colormap_changed = Signal(str)
    db_range_changed = Signal(float, float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.colormap = QComboBox()
        self.colormap.addItems(COLORMAPS)
        self.db_range = QLabeledRangeSlider(Qt.Orientation.Horizontal)
        self.db_range.setRange(DB_MIN, DB_MAX)
        self.db_range.setValue((-70, 30))
        self.db_range.setToolTip("Spectrogram levels in dB (colour bar bottom and top)")
        form = QFormLayout(self)
        form.addRow("Colour map", self.colormap)
        form.addRow("dB range", self.db_range)
        self.colormap.currentTextChanged.connect(self.colormap_changed)
        self.db_range.valueChanged.connect(lambda v: self.db_range_changed.emit(*map(float, v)))

    def set_values(self, colormap: str, low: float, high: float) -> None:
        self.colormap.setCurrentText(colormap)
        self.db_range.setValue((int(low), int(high)))
