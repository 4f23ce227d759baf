"""A long recording's state and background work: overview, scores, events, detail, exports.

`LongSession` starts every worker for the long file on screen (`app.gui.long.long_data`)
and reports back only through signals; a generation counter drops results of a file that was
replaced while its worker ran. Scoring is cancellable: the worker polls `Progress.cancelled` between
batches, and a GUI timer reads `Progress.fraction` for the progress bar (the worker never
touches Qt objects); "Save as WAV" reports its progress the same way. Playback streams the file
(`app.gui.widgets.file_stream`, started by `LongView`). No widgets here; `LongView` connects
the signals.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.gui import workers
from app.gui.long import long_data
from app.gui.long.long_data import LongFile, Progress, Scores


class LongSession(QObject):
    opened = Signal(object)  # LongFile
    overview_progress = Signal(float)
    overview_ready = Signal(object, object)  # Spectrogram, Envelope
    scoring = Signal()
    progress = Signal(float)
    scored = Signal(object)  # Scores
    cancelled = Signal()
    events_ready = Signal(list)  # [ast_core Event]
    detail_ready = Signal(object)  # Detail
    exported = Signal(str)  # path
    save_progress = Signal(float)
    saved = Signal(str)  # path
    failed = Signal(object, str)  # exception, title

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.classifier: Any = None
        self.file: LongFile | None = None
        self.scores: Scores | None = None
        self.events: list = []
        self.window_s: float | None = None  # None: the model's window
        self.hop_s: float | None = None  # None: half the window
        self.threshold, self.min_duration_s, self.merge_gap_s = 0.5, 0.0, 0.0
        self._progress: Progress | None = None
        self._generation = 0
        self._events_gen = 0
        self._detail_gen = 0
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._tick)
        self._saving: Progress | None = None
        self._save_timer = QTimer(self)
        self._save_timer.setInterval(200)
        self._save_timer.timeout.connect(
            lambda: self._saving is not None and self.save_progress.emit(self._saving.fraction))

    def _current(self, gen: int) -> bool:
        return gen == self._generation

    def set_classifier(self, classifier: Any) -> None:
        """A new model: the open file is scored again with it."""
        self.classifier = classifier
        if self.file is not None:
            self.start_scoring()

    def open(self, lf: LongFile) -> None:
        self.cancel()
        self._generation += 1
        gen = self._generation
        self.file, self.scores, self.events = lf, None, []
        self.opened.emit(lf)
        workers.start(long_data.overview, lf, self.classifier,
                      on_yield=lambda p: self._current(gen) and self.overview_progress.emit(p),
                      on_result=lambda r: self._current(gen) and self.overview_ready.emit(*r),
                      on_error=lambda e: self.failed.emit(e, "Overview"))
        if self.classifier is not None:
            self.start_scoring()

    def close(self) -> None:
        """Forget the file (another clip is on screen)."""
        self.cancel()
        self._generation += 1
        self.file, self.scores, self.events = None, None, []

    # ------------------------------------------------------------ scores
    def start_scoring(self) -> None:
        if self.file is None or self.classifier is None:
            return
        self.cancel()
        gen = self._generation
        progress = self._progress = Progress(self.file.duration_s)
        self.scoring.emit()
        self._timer.start()
        workers.start(long_data.score, self.classifier, self.file, self.window_s, self.hop_s,
                      progress,
                      on_result=lambda s: self._scored(gen, progress, s),
                      on_error=lambda e: self._score_failed(gen, progress, e))

    def cancel(self) -> None:
        """Ask the scoring worker to stop (it does between two batches)."""
        if self._progress is not None:
            self._progress.cancel()
            self._progress = None
            self._timer.stop()
            self.cancelled.emit()

    def _tick(self) -> None:
        if self._progress is not None:
            self.progress.emit(self._progress.fraction)

    def _finish(self, progress: Progress) -> bool:
        if self._progress is not progress:
            return False
        self._progress = None
        self._timer.stop()
        return True

    def _scored(self, gen: int, progress: Progress, scores: Scores) -> None:
        if self._finish(progress) and self._current(gen):
            self.scores = scores
            self.progress.emit(1.0)
            self.scored.emit(scores)
            self.find_events()

    def _score_failed(self, gen: int, progress: Progress, exc: Exception) -> None:
        from ast_core.run.classifier import Cancelled

        if isinstance(exc, Cancelled):
            return
        if self._finish(progress) and self._current(gen):
            self.failed.emit(exc, "Classify")

    # ------------------------------------------------------------ events
    def set_event_options(self, threshold: float, min_duration_s: float, merge_gap_s: float):
        self.threshold, self.min_duration_s, self.merge_gap_s = (
            threshold, min_duration_s, merge_gap_s)
        self.find_events()

    def find_events(self) -> None:
        if self.scores is None:
            return
        self._events_gen += 1
        gen, file_gen = self._events_gen, self._generation
        workers.start(long_data.find_events, self.scores, self.threshold, self.min_duration_s,
                      self.merge_gap_s,
                      on_result=lambda ev: self._events(gen, file_gen, ev),
                      on_error=lambda e: self.failed.emit(e, "Events"))

    def _events(self, gen: int, file_gen: int, events: list) -> None:
        if gen == self._events_gen and self._current(file_gen):
            self.events = events
            self.events_ready.emit(events)

    def export(self, path: str, fmt: str) -> None:
        """Write the events in `fmt` (csv, json, raven, audacity) to `path`, in a worker."""
        workers.start(long_data.write_events, path, list(self.events), fmt,
                      on_result=self.exported.emit,
                      on_error=lambda e: self.failed.emit(e, "Export"))

    # ------------------------------------------------------------ detail and saving
    def request_detail(self, start_s: float, end_s: float) -> None:
        """Full-resolution spectrogram of the range on screen (the latest request wins)."""
        if self.file is None:
            return
        self._detail_gen += 1
        gen, file_gen = self._detail_gen, self._generation
        workers.start(long_data.detail, self.file, self.classifier, start_s, end_s,
                      on_result=lambda d: gen == self._detail_gen and self._current(file_gen)
                      and self.detail_ready.emit(d),
                      on_error=lambda e: self.failed.emit(e, "Detail"))

    def save_wav(self, path: str) -> None:
        """Write the file as a 16-kHz WAV to `path` in a worker, block by block (a save still
        running is cancelled). `save_progress` while it runs, then `saved` or `failed`."""
        if self.file is None:
            return
        self.cancel_save()
        progress = self._saving = Progress(self.file.duration_s)
        self._save_timer.start()
        workers.start(long_data.save_wav, self.file, path, progress,
                      on_result=lambda p: self._save_done(progress) and self.saved.emit(p),
                      on_error=lambda e: self._save_failed(progress, e))

    def cancel_save(self) -> None:
        if self._saving is not None:
            self._saving.cancel()
            self._save_done(self._saving)

    def _save_done(self, progress: Progress) -> bool:
        if self._saving is not progress:
            return False
        self._saving = None
        self._save_timer.stop()
        return True

    def _save_failed(self, progress: Progress, exc: Exception) -> None:
        from ast_core.run.classifier import Cancelled

        if self._save_done(progress) and not isinstance(exc, Cancelled):
            self.failed.emit(exc, "Save")
