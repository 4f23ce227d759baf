"""The waveform strip above the spectrogram (x linked to it), with the playback cursor."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from app.gui.widgets.audio_data import Envelope


def place_cursor(cursor: pg.InfiniteLine, seconds: float | None) -> None:
    """Show the playback cursor at `seconds`, or hide it for None."""
    if seconds is None:
        cursor.hide()
    else:
        cursor.setValue(seconds)
        cursor.show()


class WaveformView(pg.PlotWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setBackground("w")
        self.setMaximumHeight(110)
        self.setMinimumHeight(70)
        item = self.getPlotItem()
        item.setLabel("left", "Amp")
        item.getAxis("left").enableAutoSIPrefix(False)
        item.hideAxis("bottom")
        item.setMouseEnabled(x=True, y=False)
        item.setYRange(-1.0, 1.0, padding=0.02)
        self.curve = item.plot(pen=pg.mkPen((40, 90, 160), width=1))
        self.curve.setDownsampling(auto=True, method="peak")
        self.curve.setClipToView(True)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("r", width=2))
        self.cursor.hide()
        item.addItem(self.cursor)

    def set_envelope(self, env: Envelope | None) -> None:
        """Draw a clip's envelope (computed by a worker); None clears the strip."""
        if env is None:
            self.curve.setData([], [])
            return
        self.curve.setData(env.t, env.y)
        peak = max(env.peak, 1e-3)
        self.getPlotItem().setYRange(-peak, peak, padding=0.05)

    def set_cursor(self, seconds: float | None) -> None:
        place_cursor(self.cursor, seconds)
