"""The top-k labels of the clip as score bars with percentages; k and threshold adjustable."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.gui.clip.analysis import ClipAnalysis

_MODE_TEXT = {
    "multi": "multi-label (sigmoid): each score is independent",
    "single": "single-label (softmax): scores share 100 %",
}


class _LabelRow(QWidget):
    def __init__(self, label: str, score: float):
        super().__init__()
        self.label, self.score = label, score
        name = QLabel(label)
        name.setMinimumWidth(120)
        name.setToolTip(label)
        bar = QProgressBar()
        bar.setRange(0, 1000)
        bar.setValue(round(score * 1000))
        bar.setFormat(f"{score * 100:.1f} %")
        bar.setTextVisible(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 1, 4, 1)
        row.addWidget(name, 2)
        row.addWidget(bar, 3)
        self.bar = bar


class LabelsPanel(QWidget):
    """Emits `label_selected(label)` when the user clicks a row."""

    label_selected = Signal(str)
    options_changed = Signal(int, float)  # k, threshold

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.k = QSpinBox()
        self.k.setRange(1, 50)
        self.k.setValue(5)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.status = QLabel("No clip classified yet.")
        self.status.setWordWrap(True)
        self.list = QListWidget()
        self.list.setSelectionMode(QListWidget.SelectionMode.SingleSelection)
        form = QFormLayout()
        form.addRow("Top k", self.k)
        form.addRow("Min. score", self.threshold)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.list, 1)
        self.analysis: ClipAnalysis | None = None
        self.k.valueChanged.connect(self._options)
        self.threshold.valueChanged.connect(self._options)
        self.list.currentItemChanged.connect(self._clicked)

    def set_options(self, k: int, threshold: float) -> None:
        self.k.setValue(k)
        self.threshold.setValue(threshold)

    def set_message(self, text: str) -> None:
        """Show a state (no model, loading, classifying…) instead of scores."""
        self.analysis = None
        self.list.clear()
        self.status.setText(text)

    def set_analysis(self, analysis: ClipAnalysis | None) -> None:
        self.analysis = analysis
        self.refresh()

    def refresh(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        a = self.analysis
        if a is None:
            self.list.blockSignals(False)
            return
        top = a.top(self.k.value(), self.threshold.value())
        for label, score in top:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, label)
            row = _LabelRow(label, score)
            item.setSizeHint(row.sizeHint())
            self.list.addItem(item)
            self.list.setItemWidget(item, row)
        self.list.blockSignals(False)
        text = _MODE_TEXT.get(a.label_mode, a.label_mode)
        if a.pooling:
            text += f"; clip score = {a.pooling} (see the timeline)"
        if not top:
            text += f"\nNo label scores {self.threshold.value():.2f} or more."
        self.status.setText(text)

    def _options(self) -> None:
        self.refresh()
        self.options_changed.emit(self.k.value(), self.threshold.value())

    def _clicked(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.label_selected.emit(item.data(Qt.ItemDataRole.UserRole))
