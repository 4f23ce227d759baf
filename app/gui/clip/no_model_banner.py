"""A plain banner at the top of the window when no model is installed, with the three ways out."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class NoModelBanner(QFrame):
    download_clicked = Signal()
    import_clicked = Signal()
    train_clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("NoModelBanner")
        self.setStyleSheet(
            "#NoModelBanner { background: #fff4d6; border: 1px solid #e0b84d; border-radius: 4px; }"
        )
        self.text = QLabel()
        self.text.setWordWrap(True)
        buttons = QHBoxLayout()
        for text, signal in (("Download a model…", self.download_clicked),
                             ("Import a model file…", self.import_clicked),
                             ("Train a model…", self.train_clicked)):
            button = QPushButton(text)
            button.clicked.connect(signal)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addLayout(buttons)

    def show_message(self, text: str) -> None:
        self.text.setText(
            f"<b>No model to classify with.</b> {text}<br>"
            "You can still open and record sounds and look at their spectrograms; no labels are "
            "shown until a trained model is loaded."
        )
        self.show()
