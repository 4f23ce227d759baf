"""Per-window scores of a long clip, drawn under the spectrogram (x linked to it).

Each model window is a bar from its start to its end at the height of the chosen label's
score (windows overlap by half, so bars are translucent). Clicking picks the nearest window.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from ast_core.run.windows import WindowScores


class WindowTimeline(pg.PlotWidget):
    window_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setBackground("w")
        self.setMaximumHeight(120)
        self.setMinimumHeight(80)
        item = self.getPlotItem()
        item.setMouseEnabled(x=True, y=False)
        item.setYRange(0.0, 1.0, padding=0.05)
        item.setLabel("left", "Score")
        item.setLabel("bottom", "Time", units="s")
        item.getAxis("bottom").enableAutoSIPrefix(False)
        self.bars = pg.BarGraphItem(x0=[], x1=[], height=[], brush=(60, 120, 200, 90),
                                    pen=pg.mkPen((30, 70, 150)))
        item.addItem(self.bars)
        self.marker = pg.LinearRegionItem(movable=False, brush=(255, 140, 0, 60))
        self.marker.hide()
        item.addItem(self.marker)
        self.title = pg.TextItem(anchor=(0, 0), color=(40, 40, 40))
        item.addItem(self.title, ignoreBounds=True)
        self.windows: WindowScores | None = None
        self.label_index: int | None = None
        self.scene().sigMouseClicked.connect(self._click)

    def set_windows(
        self, windows: WindowScores | None, labels: list[str], label: str | None
    ) -> None:
        """Draw `label`'s score in each window (None or an unknown label: clear)."""
        self.windows = windows
        if windows is None or label is None or label not in labels:
            self.bars.setOpts(x0=[], x1=[], height=[])
            self.title.setText("")
            self.label_index = None
            return
        self.label_index = labels.index(label)
        heights = windows.scores[:, self.label_index]
        self.bars.setOpts(x0=windows.starts, x1=windows.ends, height=heights)
        self.title.setText(f"{label}: score per {windows.ends[0] - windows.starts[0]:.2f}-s window")
        self.title.setPos(float(windows.starts[0]), 1.0)

    def mark(self, start: float, end: float) -> None:
        self.marker.setRegion((start, end))
        self.marker.show()

    def nearest_window(self, seconds: float) -> int | None:
        if self.windows is None or not len(self.windows.starts):
            return None
        centres = (self.windows.starts + self.windows.ends) / 2
        return int(np.argmin(np.abs(centres - seconds)))

    def _click(self, event) -> None:
        vb = self.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        index = self.nearest_window(vb.mapSceneToView(event.scenePos()).x())
        if index is not None:
            self.window_clicked.emit(index)
