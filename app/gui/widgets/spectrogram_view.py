"""The spectrogram: one `ImageItem` updated in place, seconds × mel-spaced Hz, colour bar, cursor.

Levels are fixed dB values (the range control), never auto-levelled per clip, so two clips look
comparable. Zoom and pan are pyqtgraph's (wheel, drag; right-click menu to reset).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QWidget

from app.gui.widgets.attention_overlay import AttentionOverlay
from app.gui.widgets.audio_data import Spectrogram
from app.gui.widgets.mel_axis import MelAxis
from app.gui.widgets.waveform_view import place_cursor

COLORMAPS = ["viridis", "magma", "inferno", "plasma", "cividis", "turbo", "CET-L1"]


class SpectrogramView(pg.GraphicsLayoutWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setBackground("w")
        self.mel_axis = MelAxis()
        self.plot = self.addPlot(row=0, col=0, axisItems={"left": self.mel_axis})
        self.plot.setLabel("bottom", "Time", units="s")
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.setMenuEnabled(True)
        self.plot.setMouseEnabled(x=True, y=True)
        # image[x=frame, y=mel bin]; drawn at screen resolution, so long clips paint cheaply
        self.image = pg.ImageItem(axisOrder="col-major", autoDownsample=True)
        self.plot.addItem(self.image)
        # full-resolution detail of the range on screen, over a long file's overview
        self.detail = pg.ImageItem(axisOrder="col-major", autoDownsample=True)
        self.detail.setZValue(1)
        self.plot.addItem(self.detail)
        self.overlay = AttentionOverlay()
        self.plot.addItem(self.overlay)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("r", width=2))
        self.cursor.setZValue(20)
        self.cursor.hide()
        self.plot.addItem(self.cursor)
        self.levels = (-70.0, 30.0)
        self.colormap_name = "viridis"
        self.colorbar = pg.ColorBarItem(
            values=self.levels, colorMap=pg.colormap.get(self.colormap_name), label="dB",
            interactive=False,
        )
        self.colorbar.setImageItem([self.image, self.detail])
        self.addItem(self.colorbar, row=0, col=1)
        self.spectrogram: Spectrogram | None = None
        self.plot.setRange(xRange=(0.0, 10.0), yRange=(0.0, 128.0), padding=0)

    def set_spectrogram(self, spec: Spectrogram | None) -> None:
        """Show a clip's spectrogram (None clears the view)."""
        self.spectrogram = spec
        self.set_detail(None)
        if spec is None:
            self.image.clear()
            self.overlay.set_attention(None)
            return
        self.image.setImage(spec.db.astype(np.float32), autoLevels=False, levels=self.levels)
        frames, mels = spec.db.shape
        duration = frames * spec.frame_shift_s
        self.image.setRect(QRectF(0.0, 0.0, duration, float(mels)))
        self.mel_axis.num_mels = mels
        self.plot.setLimits(xMin=0.0, xMax=max(duration, 0.1), yMin=0.0, yMax=float(mels))
        self.plot.setRange(xRange=(0.0, duration), yRange=(0.0, mels), padding=0)

    def set_detail(self, spec: Spectrogram | None, offset_s: float = 0.0) -> None:
        """Draw `spec` (full resolution) from `offset_s` over the overview; None removes it."""
        if spec is None or not len(spec.db):
            self.detail.clear()
            self.detail.hide()
            return
        self.detail.setImage(spec.db.astype(np.float32), autoLevels=False, levels=self.levels)
        frames, mels = spec.db.shape
        self.detail.setRect(QRectF(offset_s, 0.0, frames * spec.frame_shift_s, float(mels)))
        self.detail.show()

    def set_db_range(self, low: float, high: float) -> None:
        self.levels = (float(low), float(max(high, low + 1.0)))
        self.colorbar.setLevels(self.levels)
        if self.spectrogram is not None:
            self.image.setLevels(self.levels)
        if self.detail.image is not None:
            self.detail.setLevels(self.levels)

    def set_colormap(self, name: str) -> None:
        cmap = pg.colormap.get(name if name in COLORMAPS else "viridis")
        self.colormap_name = name
        self.colorbar.setColorMap(cmap)

    def set_cursor(self, seconds: float | None) -> None:
        place_cursor(self.cursor, seconds)
