"""Record from a microphone: device chooser, level meter, start/stop, then use or save the take.

The dialog owns a `Take` (`ast_core.live.take`: the same `MicStream` and ring as live mode, kept
whole); a 50-ms timer reads what arrived to draw the level and the length. When the user
presses Use, `recorded(samples, rate)` hands the take, at the device's rate, to the window,
which resamples it in a worker and treats it like an opened file.
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

from ast_core.audio import SAMPLE_RATE
from ast_core.live.microphone import NO_MICROPHONE, LiveError, input_devices
from ast_core.live.take import MAX_TAKE_S, Take, peak_dbfs


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
        self.max_seconds = MAX_TAKE_S  # a take stops by itself at this length
        self.take: Take | None = None
        self.samples = np.zeros(0, np.float32)
        self.rate = SAMPLE_RATE
        self._problem: str | None = None  # why there is no device to record from
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
            devices = input_devices()
        except LiveError as e:  # PortAudio itself failed to start
            devices, self._problem = [], str(e)
        else:
            self._problem = None if devices else NO_MICROPHONE
        for d in devices:
            self.device.addItem(d.name, d.index)
        if preferred:
            self.device.setCurrentText(preferred)
        if self._problem:
            self.message.setText(self._problem)
            self.start_button.setEnabled(False)

    @property
    def has_device(self) -> bool:
        return self.device.count() > 0

    def start(self) -> None:
        take = Take(self.device.currentData(), self.max_seconds)
        try:
            take.start()
        except LiveError as e:  # no device, device busy, unsupported format…
            self.message.setText(str(e))
            self.failed.emit(e)
            return
        self.take = take
        self.message.setText(f"Recording… (up to {self.max_seconds / 60:g} min)")
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.use_button.setEnabled(False)
        self.device.setEnabled(False)
        self._timer.start()

    def _tick(self) -> None:
        take = self.take
        if take is None:
            return
        chunk = take.new_audio()
        if len(chunk):
            self.level.setValue(max(-60, round(peak_dbfs(chunk))))
        self.time.setText(f"{take.seconds:.1f} s")
        if take.full or take.failed:
            self.stop()

    def stop(self) -> None:
        self._timer.stop()
        take, self.take = self.take, None
        if take is None:
            return
        reason = take.failed
        self.samples, self.rate = take.stop(), take.rate
        seconds = len(self.samples) / self.rate
        self.time.setText(f"{seconds:.1f} s")
        if reason:
            note = f" {reason}"
        elif take.full:
            note = f" That is the longest take ({self.max_seconds / 60:g} min)."
        else:
            note = ""
        self.message.setText(f"Recorded {seconds:.1f} s.{note}")
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.use_button.setEnabled(len(self.samples) > 0)
        self.device.setEnabled(True)

    def _use(self) -> None:
        if self.take is not None:
            self.stop()
        if len(self.samples):
            self.recorded.emit(self.samples, self.rate)
        self.accept()

    def done(self, result: int) -> None:
        if self.take is not None:
            self.stop()
        super().done(result)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._problem:
            problem = self._problem
            QTimer.singleShot(0, lambda: self.failed.emit(LiveError(problem)))
