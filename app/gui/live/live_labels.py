"""What the live model hears: the current top-k labels, and a heatmap of scores over the last
minute (one column per analysis, rows = the labels that were ever in a top-k, best first)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QListWidget, QSplitter, QVBoxLayout, QWidget

from ast_core.live.analyzer import LiveResult

HISTORY_S = 60.0
MAX_ROWS = 12


class LabelHistory(pg.PlotWidget):
    """Scores of the top labels over the last minute; time runs left to right, newest at 0."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setBackground("w")
        self.setMouseEnabled(x=False, y=False)
        self.setLabel("bottom", "Seconds ago")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("inferno"))
        self.addItem(self.image)
        self.rows: list[str] = []
        self.hop_s = 0.5
        self.scores = np.zeros((0, 1), np.float32)

    def reset(self, labels: list[str], hop_s: float) -> None:
        self.all_labels = labels
        self.hop_s = hop_s
        self.rows = []
        self.scores = np.zeros((0, max(1, round(HISTORY_S / hop_s))), np.float32)
        self.image.clear()
        self.getAxis("left").setTicks([[]])

    def add(self, result: LiveResult) -> None:
        for name, _ in result.top:
            if name not in self.rows and len(self.rows) < MAX_ROWS:
                self.rows.append(name)
                self.scores = np.vstack([self.scores, np.zeros((1, self.scores.shape[1]),
                                                               np.float32)])
                self.getAxis("left").setTicks([[(i + 0.5, n) for i, n in enumerate(self.rows)]])
        if not self.rows:
            return
        self.scores[:, :-1] = self.scores[:, 1:]
        idx = [self.all_labels.index(n) for n in self.rows]
        self.scores[:, -1] = result.scores[idx]
        self.image.setImage(self.scores, autoLevels=False, levels=(0.0, 1.0))
        self.image.setRect(-HISTORY_S, 0, HISTORY_S, len(self.rows))


class LivePanel(QWidget):
    """The top-k list above the history heatmap."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.top = QListWidget()
        self.history = LabelHistory()
        split = QSplitter()
        split.addWidget(self.top)
        split.addWidget(self.history)
        split.setSizes([220, 500])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

    def reset(self, labels: list[str], hop_s: float) -> None:
        self.top.clear()
        self.history.reset(labels, hop_s)

    def show_result(self, result: LiveResult) -> None:
        if result.changed or self.top.count() != len(result.top) or result.top:
            self.top.clear()
            self.top.addItems([f"{s:.2f}  {n}" for n, s in result.top] or ["(nothing above "
                                                                              "threshold)"])
        self.history.add(result)

    def shown_labels(self) -> list[str]:
        return [self.top.item(i).text().split("  ", 1)[-1] for i in range(self.top.count())]
