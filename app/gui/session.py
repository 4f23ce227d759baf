"""The window's state and its background work: which model, which clip, which results.

`Session` owns the loaded classifier, the current clip and its analysis, starts every worker
(model search and load, decode, display data, classification, attention of one window) and
reports back only through signals. A generation counter drops results of clips or models that
were replaced while their worker ran. No widgets here; `MainWindow` connects the signals.

It sits above the product areas: a path it opens becomes a clip (`app.gui.clip`) or, when too
long to decode whole, goes out as `long_opened` to the long view (`app.gui.long`).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.gui import workers
from app.gui.clip import analysis
from app.gui.long import long_data
from app.gui.widgets.audio_data import Clip
from ast_core.audio.resample import resample


class Session(QObject):
    model_searching = Signal()
    model_loading = Signal(str)  # folder
    model_ready = Signal(str, object)  # folder, classifier
    model_missing = Signal(str)  # the core's no-model message
    model_failed = Signal(object)  # exception
    clip_shown = Signal(object)  # Clip, before any result for it
    drawn = Signal(object, object)  # Spectrogram, Envelope
    classifying = Signal()
    progress = Signal(float)
    classified = Signal(object)  # ClipAnalysis
    attention_ready = Signal(object)  # Attention
    failed = Signal(object, str)  # exception, title
    long_opened = Signal(object)  # long_data.LongFile: too long to decode whole (LongView)

    def __init__(
        self, compute_device: str = "", precision: str = "auto", parent: QObject | None = None
    ):
        super().__init__(parent)
        self.compute_device = compute_device
        self.precision = precision
        self.classifier: Any = None  # an ast_core Classifier, only ever used inside workers
        self.model_path = ""
        self.model_state = "loading"  # "loading" | "ready" | "none"
        self.clip: Clip | None = None
        self.analysis: analysis.ClipAnalysis | None = None
        self._generation = 0

    def _next(self) -> int:
        self._generation += 1
        return self._generation

    def _current(self, gen: int) -> bool:
        return gen == self._generation

    # ------------------------------------------------------------ models
    def find_start_model(self, preferred: str) -> None:
        self.model_state = "loading"
        self.model_searching.emit()
        workers.start(_start_model, preferred, on_result=self._start_model_found,
                      on_error=self._model_failed)

    def _start_model_found(self, found: tuple[str | None, str]) -> None:
        path, message = found
        if path is None:
            self.model_state = "none"
            self.model_missing.emit(message)
        else:
            self.load_model(path)

    def load_model(self, path: str) -> None:
        """Load a model folder in a worker; the current clip is classified again when it is."""
        self.model_state = "loading"
        self.model_loading.emit(path)
        workers.start(analysis.load_classifier, path, self.compute_device, self.precision,
                      on_result=lambda clf: self._model_loaded(path, clf),
                      on_error=self._model_failed)

    def _model_loaded(self, path: str, classifier: Any) -> None:
        self.classifier, self.model_path, self.model_state = classifier, path, "ready"
        self.model_ready.emit(path, classifier)
        if self.clip is not None:
            self.show_clip(self.clip)

    def _model_failed(self, exc: Exception) -> None:
        self.model_state = "ready" if self.classifier is not None else "none"
        self.model_failed.emit(exc)

    # ------------------------------------------------------------ clips
    def open_path(self, path: str) -> None:
        gen = self._next()
        workers.start(long_data.open_any, path,
                      on_result=lambda r: self._current(gen) and self._opened(r),
                      on_error=lambda e: self.failed.emit(e, "Open"))

    def _opened(self, opened: Clip | long_data.LongFile) -> None:
        if isinstance(opened, long_data.LongFile):
            self.clip, self.analysis = None, None
            self._next()
            self.long_opened.emit(opened)
        else:
            self.show_clip(opened)

    def open_recording(self, samples: np.ndarray, rate: int) -> None:
        name = time.strftime("Recording %H:%M:%S")
        gen = self._next()
        workers.start(resample, samples, rate,  # the device's rate -> SAMPLE_RATE
                      on_result=lambda x: self._current(gen) and self.show_clip(
                          Clip(name, x, None)),
                      on_error=lambda e: self.failed.emit(e, "Record"))

    def show_clip(self, clip: Clip) -> None:
        """Make `clip` current: draw it, then classify it when a model is ready."""
        self.clip, self.analysis = clip, None
        gen = self._next()
        self.clip_shown.emit(clip)
        workers.start(analysis.display, clip, self.classifier,
                      on_result=lambda d: self._current(gen) and self.drawn.emit(*d),
                      on_error=lambda e: self.failed.emit(e, "Display"))
        if self.classifier is None:
            return
        self.classifying.emit()
        workers.start(analysis.classify, self.classifier, clip,
                      on_yield=lambda p: self._current(gen) and self.progress.emit(p),
                      on_result=lambda a: self._classified(gen, a),
                      on_error=lambda e: self.failed.emit(e, "Classify"))

    def _classified(self, gen: int, result: analysis.ClipAnalysis) -> None:
        if self._current(gen):
            self.analysis = result
            self.classified.emit(result)

    def attention_for_window(self, index: int) -> None:
        """Compute the attention maps of window `index` of the current long clip."""
        a, clip, gen = self.analysis, self.clip, self._generation
        if a is None or a.windows is None or clip is None or self.classifier is None:
            return
        workers.start(analysis.attention_at, self.classifier, clip, float(a.windows.starts[index]),
                      on_result=lambda att: self._current(gen) and self.attention_ready.emit(att),
                      on_error=lambda e: self.failed.emit(e, "Attention"))

    def save_wav(self, path: str) -> None:
        if self.clip is not None:
            workers.start(_save_wav, path, self.clip.samples, self.clip.rate,
                          on_error=lambda e: self.failed.emit(e, "Save"))


def _start_model(preferred: str) -> tuple[str | None, str]:
    from ast_core.store.model_store import no_model_message

    path = analysis.find_default_model(preferred)
    return path, ("" if path else no_model_message())


def _save_wav(path: str, samples: np.ndarray, rate: int) -> str:
    from ast_core.audio.decode import save_wav

    save_wav(path, samples, rate)
    return path
