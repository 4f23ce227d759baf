"""The central area: no-model banner, hint, waveform strip, spectrogram, per-window timeline.

The plots share their time axis (pan or zoom one, the others follow); `add_strip` puts another
plot under them (the long recording's score curves) on the same axis.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.gui.clip.no_model_banner import NoModelBanner
from app.gui.clip.window_timeline import WindowTimeline
from app.gui.widgets.spectrogram_view import SpectrogramView
from app.gui.widgets.waveform_view import WaveformView


class ClipView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.banner = NoModelBanner()
        self.banner.hide()
        self.hint = QLabel("Open a sound (File → Open, or drop files here) or record one.")
        self.waveform = WaveformView()
        self.spectrogram = SpectrogramView()
        self.timeline = WindowTimeline()
        self.timeline.hide()
        self.waveform.setXLink(self.spectrogram.plot)
        self.timeline.setXLink(self.spectrogram.plot)
        layout = QVBoxLayout(self)
        for w in (self.banner, self.hint, self.waveform):
            layout.addWidget(w)
        layout.addWidget(self.spectrogram, 1)
        layout.addWidget(self.timeline)

    def set_cursor(self, seconds: float | None) -> None:
        self.spectrogram.set_cursor(seconds)
        self.waveform.set_cursor(seconds)

    def add_strip(self, plot: pg.PlotWidget) -> None:
        """Add `plot` at the bottom, its x axis linked to the spectrogram's."""
        plot.setXLink(self.spectrogram.plot)
        self.layout().addWidget(plot)
