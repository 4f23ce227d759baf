"""Live mode: a window that tags what the microphone hears, with its cost shown.

Threads (see ARCHITECTURE.md): the PortAudio callback fills `MicStream`'s ring; a 30-ms QTimer
on the GUI thread rolls the newly arrived audio into the scrolling spectrogram; one worker loads
the live model (`load_classifier` at the device and precision of the window's model, its input
fitted to the window), runs `LiveAnalyzer.results` (always the newest window, stale ones
dropped) and yields each `LiveResult` back to the GUI thread, which shows the labels, the
history, the events and the cost. The GUI adds its own step to the latency: "sound -> labels on
screen" is measured when a result is shown.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QSplitter, QVBoxLayout, QWidget

from app.gui import workers
from app.gui.live.live_controls import LiveControls
from app.gui.live.live_events import LiveEvents
from app.gui.live.live_labels import LivePanel
from app.gui.live.live_spectrogram import LiveSpectrogram
from ast_core.audio import SAMPLE_RATE
from ast_core.live.analyzer import LiveAnalyzer, LiveResult
from ast_core.live.microphone import NO_MICROPHONE, LiveError, MicStream, input_devices
from ast_core.live.ring import RingCursor
from ast_core.live.threads import live_threads, torch_threads

FRAME_MS = 30  # spectrogram redraw interval (>= 30 frames per second)


@dataclass
class _Run:
    """One Start…Stop: its stop flag, worker and model; results of an older run are ignored."""

    stop: threading.Event = field(default_factory=threading.Event)
    worker: Any = None
    classifier: Any = None  # the model this run scores with, once its worker has loaded it

    def should_stop(self) -> bool:  # Stop pressed, or the app closing (workers.wait_all)
        return self.stop.is_set() or (self.worker is not None and self.worker.abort_requested)


class LiveWindow(QWidget):
    """Live tagging with the window's `classifier`: each run scores with a copy of its model at
    the same device and precision (those chosen in Model ▸ Compute), its input fitted to the
    window unless the user unticks that."""

    failed = Signal(object)  # an exception for the main window's error reporter
    result_shown = Signal(object)  # each LiveResult after it is on screen

    def __init__(self, classifier: Any, preferred_device: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window)
        self.setWindowTitle(f"Live — {getattr(classifier, 'name', 'model')} — AST Studio")
        self.resize(1200, 760)
        self.classifier = classifier
        self.controls = LiveControls()
        self.spectrogram = LiveSpectrogram()
        self.panel = LivePanel()
        self.events = LiveEvents()
        split = QSplitter(Qt.Orientation.Vertical)
        for w in (self.spectrogram, self.panel, self.events):
            split.addWidget(w)
        split.setSizes([320, 260, 180])
        layout = QHBoxLayout(self)
        layout.addWidget(split, 1)
        side = QVBoxLayout()
        side.addWidget(self.controls)
        layout.addLayout(side)
        self.mic: MicStream | None = None
        self.worker: Any = None
        self.last: LiveResult | None = None
        self.shown_latency_ms: list[float] = []
        self._run = _Run()
        self._drawn: RingCursor | None = None  # what the spectrogram has drawn of the mic's ring
        self._problem: str | None = None  # why there is no device to listen to
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._draw)
        self.controls.start_button.clicked.connect(self.start)
        self.controls.stop_button.clicked.connect(self.stop)
        self.events.failed.connect(self.failed)
        self._fill_devices(preferred_device)

    @property
    def running(self) -> bool:
        return self.mic is not None

    @property
    def has_device(self) -> bool:
        return self.controls.device.count() > 0

    @property
    def classifier_in_use(self) -> Any:
        """The model the current (or last) run scores with; None until its worker loaded it."""
        return self._run.classifier

    def _fill_devices(self, preferred: str) -> None:
        try:
            devices = [(d.index, d.name) for d in input_devices()]
        except LiveError as e:  # PortAudio itself failed to start
            devices, self._problem = [], str(e)
        else:
            self._problem = None if devices else NO_MICROPHONE
        self.controls.set_devices(devices, preferred)
        if self._problem:
            self.controls.message.setText(self._problem)

    def start(self) -> None:
        if self.running:
            return
        labels = list(self.classifier.labels)
        if self.controls.filter.text().strip() and not self.controls.label_filter(labels):
            self.controls.message.setText("None of the labels in “Only labels” is in this "
                                          "model's label list.")
            return
        from ast_core.store.model_store import data_dir

        config = self.controls.config(labels, data_dir() / "live-events")
        mic = MicStream(self.controls.device.currentData())
        try:
            mic.start()
        except LiveError as e:
            self._fail(e)
            return
        self.mic, self._run = mic, _Run()
        self._drawn = RingCursor(mic.ring, mic.ring.written)
        self.spectrogram.reset(mic.rate)
        self.panel.reset(labels, config.hop_s)
        analyzer = LiveAnalyzer(self.classifier, mic, config)
        run = self._run
        fit = self.controls.fit_window.isChecked()
        run.worker = self.worker = workers.start(self._analyse, analyzer, run, fit,
                                                 on_yield=lambda r: self._show(r, run),
                                                 on_error=lambda e: self._fail(e, run))
        self.controls.set_running(True)
        note = "" if mic.rate == SAMPLE_RATE else (
            f" The device does not offer {SAMPLE_RATE / 1000:g} kHz: capturing at {mic.rate} Hz "
            "and resampling.")
        self.controls.message.setText("Listening…" + note)
        self.timer.start()

    @staticmethod
    def _analyse(analyzer: LiveAnalyzer, run: _Run, fit: bool):  # worker thread
        try:
            with torch_threads(live_threads()):  # files use every core; live leaves one free
                if fit:  # the same model, device and precision, its input cut to the window
                    from ast_core.run.loading import load_classifier

                    model = analyzer.scorer
                    fitted = load_classifier(model.name, str(model.device), model.precision,
                                             window_s=analyzer.config.window_s)
                    analyzer = LiveAnalyzer(fitted, analyzer.source, analyzer.config)
                run.classifier = analyzer.scorer
                analyzer.warm_up()
                yield from analyzer.results(run.should_stop)
        finally:
            if not run.stop.is_set():  # aborted from outside (the app is closing): free the mic
                analyzer.source.stop()

    def stop(self) -> None:
        self._run.stop.set()
        self.timer.stop()
        mic, self.mic = self.mic, None
        if mic is not None:
            mic.stop()
            self.controls.message.setText(
                f"Stopped. {mic.overruns} overruns; {self.last.dropped if self.last else 0} "
                "windows dropped.")
        self.controls.set_running(False)

    def _fail(self, exc: Exception, run: _Run | None = None) -> None:
        if run is not None and run is not self._run:
            return  # from a run that was already stopped
        self.stop()
        self.controls.message.setText(str(exc) if isinstance(exc, LiveError) else
                                      f"Live tagging stopped: {type(exc).__name__}: {exc}")
        self.failed.emit(exc)

    def _draw(self) -> None:  # GUI timer: only the audio that arrived since the last frame
        if self.mic is None or self._drawn is None:
            return
        new = self._drawn.new()
        if len(new):
            self.spectrogram.push(new)

    def _show(self, r: LiveResult, run: _Run | None = None) -> None:
        if self.mic is None or (run is not None and run is not self._run):
            return  # a result that was under way when Stop was pressed
        shown_ms = (time.monotonic() - r.capture_time) * 1000
        self.last = r
        if r.index > 0:
            self.shown_latency_ms.append(shown_ms)
            del self.shown_latency_ms[:-1000]
        self.panel.show_result(r)
        self.events.add(r.events)
        self.controls.show_cost(r, shown_ms, self.mic.overruns, self.mic.rate,
                                _compute(self.classifier_in_use))
        self.result_shown.emit(r)

    def latency_p(self, q: float) -> float | None:
        v = self.shown_latency_ms
        return float(np.percentile(v, q)) if v else None

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._problem:
            problem = self._problem
            QTimer.singleShot(0, lambda: self.failed.emit(LiveError(problem)))

    def closeEvent(self, event) -> None:  # noqa: N802
        self.stop()
        super().closeEvent(event)


def _compute(classifier: Any) -> str:
    """"bf16 on cpu": the precision and device a live model runs at."""
    return f"{getattr(classifier, 'precision', '?')} on {getattr(classifier, 'device', '?')}"
