"""The waveform strip above the spectrogram (x linked to it), with the playback cursor."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from app.analysis import Clip


class WaveformView(pg.PlotWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setBackground("w")
        self.setMaximumHeight(110)
        self.setMinimumHeight(70)
        item = self.getPlotItem()
        item.setLabel("left", "Amp")
        item.hideAxis("bottom")
        item.setMouseEnabled(x=True, y=False)
        item.setYRange(-1.0, 1.0, padding=0.02)
        self.curve = item.plot(pen=pg.mkPen((40, 90, 160), width=1))
        self.curve.setDownsampling(auto=True, method="peak")
        self.curve.setClipToView(True)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("r", width=2))
        self.cursor.hide()
        item.addItem(self.cursor)

    def set_clip(self, clip: Clip | None) -> None:
        if clip is None:
            self.curve.setData([], [])
            return
        t = np.arange(len(clip.samples), dtype=np.float64) / clip.rate
        self.curve.setData(t, clip.samples)
        peak = float(np.max(np.abs(clip.samples))) if len(clip.samples) else 1.0
        self.getPlotItem().setYRange(-max(peak, 1e-3), max(peak, 1e-3), padding=0.05)

    def set_cursor(self, seconds: float | None) -> None:
        if seconds is None:
            self.cursor.hide()
        else:
            self.cursor.setValue(seconds)
            self.cursor.show()
