"""The attention heatmap drawn over the spectrogram, and the controls that choose it.

`AttentionOverlay` is an `ImageItem` placed over one model window of the clip; the map comes
from the worker already spread from the patch grid onto spectrogram frames (`grid_to_frames`).
`AttentionControls` picks the source (last layer, rollout, one layer), opacity and visibility.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QSlider, QWidget

from app.gui.widgets.audio_data import Attention

SOURCES = ["last layer", "rollout"]


def heat_lut(points: int = 256) -> np.ndarray:
    """Fire colours whose alpha rises with the value: low attention leaves the spectrogram
    visible, high attention glows over it. `(points, 4)` uint8 RGBA."""
    rgb = pg.colormap.get("CET-L3").getLookupTable(nPts=points, alpha=False)
    alpha = np.linspace(0, 255, points) ** 1.0
    return np.column_stack([rgb, alpha.astype(np.uint8)])


class AttentionOverlay(pg.ImageItem):
    """Attention in units of uniform attention, over one model window, full mel height."""

    def __init__(self):
        super().__init__(axisOrder="col-major")
        self.setZValue(10)
        self.setLookupTable(heat_lut())
        self.setLevels((1.0, 2.0))
        self.attention: Attention | None = None
        self.source = "last layer"
        self.grid_map: np.ndarray | None = None  # (f, t) patch-grid map now shown

    def set_attention(self, attention: Attention | None, source: str | None = None) -> None:
        self.attention = attention
        if source is not None:
            self.source = source
        if attention is None:
            self.grid_map = None
            self.clear()
            return
        key = self.source if self.source in attention.frames else "last layer"
        frames = attention.frames[key]
        self.grid_map = attention.grid[key]
        # Transparent up to uniform attention, full glow at the peak (at least 1.25x uniform).
        self.setImage(frames, autoLevels=False, levels=(1.0, max(1.25, float(frames.max()))))
        width = frames.shape[0] * attention.frame_shift_s
        self.setRect(QRectF(attention.offset_s, 0.0, width, float(frames.shape[1])))

    def set_source(self, source: str) -> None:
        self.set_attention(self.attention, source)


class AttentionControls(QWidget):
    """Show/hide, source (last layer / rollout / layer N) and opacity of the overlay."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.visible = QCheckBox("Show attention")
        self.visible.setChecked(True)
        self.source = QComboBox()
        self.source.addItems(SOURCES)
        self.source.setToolTip(
            "Where the prefix tokens looked: the last layer (mean over heads), attention rollout "
            "through all layers, or any single layer."
        )
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(70)
        self.note = QLabel("Classify a clip to see where the model looked.")
        self.note.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(self.visible)
        form.addRow("Map", self.source)
        form.addRow("Opacity", self.opacity)
        form.addRow(self.note)
        self.visible.toggled.connect(self.changed)
        self.source.currentTextChanged.connect(self.changed)
        self.opacity.valueChanged.connect(self.changed)

    def set_layers(self, count: int) -> None:
        """Offer `layer 1 … layer count` after the two summary maps, keeping the choice."""
        current = self.source.currentText()
        wanted = SOURCES + [f"layer {i + 1}" for i in range(count)]
        if [self.source.itemText(i) for i in range(self.source.count())] == wanted:
            return
        self.source.blockSignals(True)
        self.source.clear()
        self.source.addItems(wanted)
        self.source.setCurrentText(current if current in wanted else SOURCES[0])
        self.source.blockSignals(False)

    def apply(self, overlay: AttentionOverlay) -> None:
        overlay.setVisible(self.visible.isChecked())
        overlay.setOpacity(self.opacity.value() / 100)
        if overlay.source != self.source.currentText():
            overlay.set_source(self.source.currentText())
