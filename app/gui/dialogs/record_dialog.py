"""Record from a microphone: device chooser, level meter, start/stop, then use or save the take.

The dialog owns a `Recorder`; a 50-ms timer drains its ring buffer and draws the level. When the
user presses Use, `recorded(samples, rate)` hands the take to the window, which treats it like
an opened file.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.gui.dialogs import recorder as rec
from app.gui.dialogs.recorder import NoInputDevice, Recorder, peak_dbfs


class RecordDialog(QDialog):
    recorded = Signal(object, int)  # samples (float32 [N]), rate
    failed = Signal(object)  # an exception for the window's error reporter

    def __init__(self, preferred_device: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Record")
        self.device = QComboBox()
        self.level = QProgressBar()
        self.level.setRange(-60, 0)
        self.level.setFormat("%v dBFS")
        self.level.setValue(-60)
        self.time = QLabel("0.0 s")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.start_button = QPushButton("● Start")
        self.stop_button = QPushButton("■ Stop")
        self.stop_button.setEnabled(False)
        self.buttons = QDialogButtonBox()
        accept = QDialogButtonBox.ButtonRole.AcceptRole
        self.use_button = self.buttons.addButton("Use recording", accept)
        self.use_button.setEnabled(False)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        form = QFormLayout()
        form.addRow("Input device", self.device)
        form.addRow("Level", self.level)
        form.addRow("Length", self.time)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.start_button)
        layout.addWidget(self.stop_button)
        layout.addWidget(self.buttons)
        self.recorder: Recorder | None = None
        self.samples = np.zeros(0, np.float32)
        self.rate = 16_000
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._tick)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.buttons.accepted.connect(self._use)
        self.buttons.rejected.connect(self.reject)
        self._fill_devices(preferred_device)

    def _fill_devices(self, preferred: str) -> None:
        try:
            devices = rec.input_devices()
        except Exception as e:  # PortAudio itself failed to start
            devices = []
            self.message.setText(f"The audio system could not be opened: {e}")
        for d in devices:
            self.device.addItem(d.name, d.index)
        if preferred:
            self.device.setCurrentText(preferred)
        if not devices:
            self.message.setText(str(NoInputDevice()))
            self.start_button.setEnabled(False)

    @property
    def has_device(self) -> bool:
        return self.device.count() > 0

    def start(self) -> None:
        try:
            self.recorder = Recorder(self.device.currentData())
            self.recorder.start()
        except Exception as e:  # no device, device busy, unsupported format…
            self.recorder = None
            self.message.setText(str(e))
            self.failed.emit(e)
            return
        self.message.setText("Recording…")
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.use_button.setEnabled(False)
        self.device.setEnabled(False)
        self._timer.start()

    def _tick(self) -> None:
        if self.recorder is None:
            return
        chunk = self.recorder.drain()
        if len(chunk):
            self.level.setValue(max(-60, round(peak_dbfs(chunk))))
        self.time.setText(f"{self.recorder.seconds:.1f} s")

    def stop(self) -> None:
        self._timer.stop()
        if self.recorder is None:
            return
        self.samples = self.recorder.stop()
        self.rate = self.recorder.rate
        dropped = self.recorder.ring.dropped
        self.recorder = None
        self.time.setText(f"{len(self.samples) / self.rate:.1f} s")
        note = f" ({dropped} frames were dropped)" if dropped else ""
        self.message.setText(f"Recorded {len(self.samples) / self.rate:.1f} s{note}.")
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.use_button.setEnabled(len(self.samples) > 0)
        self.device.setEnabled(True)

    def _use(self) -> None:
        if self.recorder is not None:
            self.stop()
        if len(self.samples):
            self.recorded.emit(self.samples, self.rate)
        self.accept()

    def done(self, result: int) -> None:
        if self.recorder is not None:
            self.stop()
        super().done(result)
