"""Live views of a training run: loss/metric curves (pyqtgraph) and the confusion matrix."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QTableWidget, QTableWidgetItem, QWidget


class TrainCurves(QWidget):
    """Train/validation loss (left) and the validation metric (right), one point per epoch."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.loss_plot = pg.PlotWidget(title="loss")
        self.metric_plot = pg.PlotWidget(title="validation")
        for plot in (self.loss_plot, self.metric_plot):
            plot.setLabel("bottom", "epoch")
            plot.addLegend(offset=(-5, 5))
            plot.showGrid(x=True, y=True, alpha=0.3)
        self.metric_plot.setYRange(0, 1)
        self.train_loss = self.loss_plot.plot(pen=pg.mkPen("#1f77b4", width=2), symbol="o",
                                              symbolSize=5, name="train")
        self.val_loss = self.loss_plot.plot(pen=pg.mkPen("#ff7f0e", width=2), symbol="o",
                                            symbolSize=5, name="val")
        self.metric = self.metric_plot.plot(pen=pg.mkPen("#2ca02c", width=2), symbol="o",
                                            symbolSize=5, name="metric")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.metric_plot)
        self.clear()

    def clear(self) -> None:
        self.points: dict[int, tuple[float, float | None, float | None]] = {}
        self._redraw()

    def add_epoch(self, event: dict) -> None:
        """Add (or, after a resume, replace) the point of an `epoch` progress event."""
        val = event["val"]
        self.points[event["epoch"]] = (event["train_loss"], val.get("loss"),
                                       val.get(event["metric"]))
        self.metric_plot.setTitle(f"validation {event['metric']}")
        self._redraw()

    def _redraw(self) -> None:
        epochs = sorted(self.points)
        rows = [self.points[e] for e in epochs]

        def series(i: int) -> tuple[list[int], list[float]]:
            pairs = [(e, r[i]) for e, r in zip(epochs, rows, strict=True) if r[i] is not None]
            return [p[0] for p in pairs], [p[1] for p in pairs]

        self.train_loss.setData(*series(0))
        self.val_loss.setData(*series(1))
        self.metric.setData(*series(2))


class ConfusionTable(QTableWidget):
    """Counts of (true label, predicted label); darker cells hold more clips."""

    def show_matrix(self, labels: list[str], matrix: list[list[int]]) -> None:
        n = len(labels)
        self.setRowCount(n)
        self.setColumnCount(n)
        self.setHorizontalHeaderLabels([f"→ {name}" for name in labels])
        self.setVerticalHeaderLabels(labels)
        peak = max((max(row) for row in matrix), default=0) or 1
        for i, row in enumerate(matrix):
            for j, count in enumerate(row):
                item = QTableWidgetItem(str(count))
                share = count / peak
                base = (46, 160, 44) if i == j else (214, 39, 40)
                item.setBackground(QColor(*base, int(200 * share)))
                self.setItem(i, j, item)
        self.resizeColumnsToContents()
