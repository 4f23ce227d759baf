"""Score curves of a long recording's top labels, under the spectrogram (x linked to it).

One curve per top label (the window scores at window centres), a dashed line at the event
threshold, and the detected events as bars along the bottom. Clicking reports the time.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QWidget

from app.gui.long.long_data import Scores

COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
          (140, 86, 75), (227, 119, 194), (127, 127, 127)]


class LongTimeline(pg.PlotWidget):
    time_clicked = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setBackground("w")
        self.setMinimumHeight(110)
        self.setMaximumHeight(170)
        item = self.getPlotItem()
        item.setMouseEnabled(x=True, y=False)
        item.setYRange(0.0, 1.0, padding=0.05)
        item.setLabel("left", "Score")
        item.getAxis("bottom").enableAutoSIPrefix(False)
        self.legend = item.addLegend(offset=(-10, 5), labelTextSize="8pt")
        dashed = pg.mkPen((90, 90, 90), style=Qt.PenStyle.DashLine)
        self.threshold_line = pg.InfiniteLine(angle=0, pos=0.5, movable=False, pen=dashed)
        item.addItem(self.threshold_line)
        self.event_bars = pg.BarGraphItem(x0=[], x1=[], y0=[], height=[],
                                          brush=(214, 39, 40, 150), pen=None)
        item.addItem(self.event_bars)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.scene().sigMouseClicked.connect(self._click)

    def set_scores(self, scores: Scores | None, labels: list[str] | None = None) -> None:
        """Draw curves for `labels` (default: the file's top labels); None clears."""
        item = self.getPlotItem()
        for curve in self.curves.values():
            item.removeItem(curve)
        self.legend.clear()
        self.curves = {}
        if scores is None:
            self.set_events([])
            return
        w = scores.windows
        centres = (w.starts + w.ends) / 2
        for i, label in enumerate(labels or scores.top):
            column = w.scores[:, scores.labels.index(label)]
            pen = pg.mkPen(COLORS[i % len(COLORS)], width=1.5)
            curve = pg.PlotDataItem(centres, column, pen=pen, name=label,
                                    autoDownsample=True, downsampleMethod="peak")
            item.addItem(curve)
            self.curves[label] = curve

    def set_threshold(self, value: float) -> None:
        self.threshold_line.setValue(value)

    def set_events(self, events: list) -> None:
        """Events as short bars at the bottom of the plot."""
        x0 = np.array([e.start_s for e in events], dtype=float)
        x1 = np.array([e.end_s for e in events], dtype=float)
        self.event_bars.setOpts(x0=x0, x1=x1, y0=np.full(len(events), -0.04),
                                height=np.full(len(events), 0.04))

    def _click(self, event) -> None:
        vb = self.getPlotItem().vb
        if vb.sceneBoundingRect().contains(event.scenePos()):
            self.time_clicked.emit(float(vb.mapSceneToView(event.scenePos()).x()))
