"""Live mode's controls (device, window, hop, k, threshold, label filter, start/stop) and the
cost readout (analysis time, real-time factor, latency, dropped windows, overruns)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ast_core.audio import SAMPLE_RATE
from ast_core.live.analyzer import LiveConfig, LiveResult


def _spin(low: float, high: float, value: float, step: float, suffix: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    box.setSuffix(suffix)
    return box


class LiveControls(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.device = QComboBox()
        self.window = _spin(1.0, 10.0, 1.0, 0.5, " s")
        self.hop = _spin(0.25, 2.0, 0.5, 0.25, " s")
        self.top_k = QSpinBox()
        self.top_k.setRange(1, 20)
        self.top_k.setValue(3)
        self.threshold = _spin(0.0, 1.0, 0.3, 0.05, "")
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("all labels (or: Speech, Dog, …)")
        self.save_audio = QCheckBox("Save the audio around each event")
        self.fit_window = QCheckBox("Fit the model's input to the window (faster)")
        self.fit_window.setChecked(True)
        self.fit_window.setToolTip("Crop a long-input model (e.g. 10.24 s AudioSet) to the window: "
                                   "far less work per analysis; scores may differ a little.")
        self.start_button = QPushButton("● Start")
        self.stop_button = QPushButton("■ Stop")
        self.stop_button.setEnabled(False)
        self.readout = QLabel("—")
        self.readout.setObjectName("live_readout")
        self.message = QLabel()
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Input device", self.device)
        form.addRow("Window", self.window)
        form.addRow("Hop", self.hop)
        form.addRow("Top k", self.top_k)
        form.addRow("Threshold", self.threshold)
        form.addRow("Only labels", self.filter)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.save_audio)
        layout.addWidget(self.fit_window)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("<b>Cost</b>"))
        layout.addWidget(self.readout)
        layout.addWidget(self.message)
        layout.addStretch(1)

    def set_devices(self, devices: list[tuple[int, str]], preferred: str = "") -> None:
        self.device.clear()
        for index, name in devices:
            self.device.addItem(name, index)
        if preferred:
            self.device.setCurrentText(preferred)
        self.start_button.setEnabled(bool(devices))

    def label_filter(self, labels: list[str]) -> frozenset[str] | None:
        """The filter as a set of the model's labels (case-insensitive); None: all labels."""
        wanted = {s.strip().lower() for s in self.filter.text().split(",") if s.strip()}
        return frozenset(n for n in labels if n.lower() in wanted) if wanted else None

    def config(self, labels: list[str], snippet_dir: Path | None) -> LiveConfig:
        chosen = self.label_filter(labels)
        return LiveConfig(window_s=self.window.value(), hop_s=self.hop.value(),
                          top_k=self.top_k.value(), threshold=self.threshold.value(),
                          label_filter=chosen, event_labels=chosen,
                          snippet_dir=snippet_dir if self.save_audio.isChecked() else None)

    def set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running and self.device.count() > 0)
        self.stop_button.setEnabled(running)
        for w in (self.device, self.window, self.hop, self.top_k, self.threshold, self.filter,
                  self.save_audio, self.fit_window):
            w.setEnabled(not running)

    def show_cost(self, r: LiveResult, shown_ms: float, overruns: int, rate: int,
                  compute: str) -> None:
        """The cost of result `r`; `compute` says where the model runs ("bf16 on cpu")."""
        resampled = ("" if rate == SAMPLE_RATE else
                     f"<br>device at {rate} Hz, resampled to {SAMPLE_RATE / 1000:g} kHz")
        self.readout.setText(
            f"model {compute}<br>"
            f"analysis {r.analysis_ms:.0f} ms per window<br>"
            f"real-time factor {r.rtf:.2f} (analysis / hop)<br>"
            f"latency {shown_ms:.0f} ms (sound → labels on screen)<br>"
            f"dropped windows {r.dropped} · overruns {overruns}{resampled}")
        if r.rtf > 1.0 or r.dropped:
            self.message.setText(
                f"This computer cannot keep up with a {self.hop.value():g}-s hop (each analysis "
                f"takes {r.analysis_ms / 1000:.2f} s): stale windows are skipped and the newest "
                "audio is always analysed. Choose a longer hop or a faster model.")
