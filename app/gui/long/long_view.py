"""Long recordings in the main window: connects `LongSession` to the plots and the Events panel.

`LongView` draws on the window's central plots (any `Plots`: the spectrogram, the waveform, the
cursor, and a strip under them for the score curves) and plays through the window's `Player`;
it knows nothing else of the window. The window docks `panel`, forwards a long file its
`Session` opened to `open`, calls `close_file` when a short clip is shown instead, and listens
to `opened`, `status` and `failed`. Zooming in to `DETAIL_MAX_S` or less on a long file asks
for full-resolution detail of the range on screen (after the view has been still for a
moment). Playback streams the file (`FileStream`: read ahead in chunks by its own thread, never
decoded whole).
"""

from __future__ import annotations

from typing import Any, Protocol

import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer, Signal

from app.gui.long.events_panel import EventsPanel
from app.gui.long.long_data import DETAIL_MAX_S, LongFile
from app.gui.long.long_session import LongSession
from app.gui.long.long_timeline import LongTimeline
from app.gui.widgets.file_stream import FileStream
from app.gui.widgets.player import Player
from app.gui.widgets.spectrogram_view import SpectrogramView
from app.gui.widgets.waveform_view import WaveformView


class Plots(Protocol):
    """The central plots `LongView` draws on (`app.gui.clip.clip_view.ClipView` is one)."""

    spectrogram: SpectrogramView
    waveform: WaveformView

    def set_cursor(self, seconds: float | None) -> None: ...

    def add_strip(self, plot: pg.PlotWidget) -> None: ...


class LongView(QObject):
    opened = Signal(object)  # LongFile, now on screen
    status = Signal(str, int)  # a status-bar message and how long to show it (ms; 0: until next)
    failed = Signal(object, str)  # exception, title: for the window's error reporter

    def __init__(self, plots: Plots, player: Player, parent: QObject | None = None):
        super().__init__(parent)
        self.plots, self.player = plots, player
        self.spectrogram = plots.spectrogram
        self.session = LongSession(self)
        self.panel = EventsPanel()
        self.timeline = LongTimeline()
        self.timeline.hide()
        plots.add_strip(self.timeline)
        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.setInterval(250)
        self._detail_timer.timeout.connect(self._update_detail)
        self._connect()

    @property
    def file(self) -> LongFile | None:
        return self.session.file

    def _connect(self) -> None:
        ls, p = self.session, self.panel
        ls.opened.connect(self._opened)
        ls.overview_progress.connect(lambda f: self.status.emit(f"Overview {f * 100:.0f} %", 0))
        ls.overview_ready.connect(self._overview)
        ls.scoring.connect(lambda: p.set_scoring(True, "scoring %p %"))
        ls.progress.connect(p.set_progress)
        ls.scored.connect(self._scored)
        ls.cancelled.connect(lambda: p.set_scoring(False, "cancelled at %p %"))
        ls.events_ready.connect(self._events)
        ls.detail_ready.connect(lambda d: self.spectrogram.set_detail(d.spectrogram, d.offset_s))
        ls.exported.connect(lambda path: self.status.emit(f"Exported {path}", 5000))
        ls.save_progress.connect(
            lambda f: self.status.emit(f"Saving as WAV… {f * 100:.0f} %", 0))
        ls.saved.connect(lambda path: self.status.emit(f"Saved {path}", 5000))
        ls.failed.connect(self._failed)
        p.score_requested.connect(self._rescore)
        p.cancel_requested.connect(ls.cancel)
        p.options_changed.connect(ls.set_event_options)
        p.options_changed.connect(lambda thr, *_: self.timeline.set_threshold(thr))
        p.event_chosen.connect(self.show_event)
        p.export_requested.connect(ls.export)
        self.timeline.time_clicked.connect(self.seek)
        self.spectrogram.plot.sigXRangeChanged.connect(lambda *_: self._detail_timer.start())

    # ------------------------------------------------------------ file state
    def open(self, lf: LongFile) -> None:
        """Show `lf` (probed, never decoded whole): overview, then scores with the model."""
        self.session.open(lf)

    def set_classifier(self, classifier: Any) -> None:
        """A new model: the open file (if any) is scored again with it."""
        self.session.set_classifier(classifier)

    def _opened(self, lf: LongFile) -> None:
        self.player.stop()
        self.plots.waveform.set_envelope(None)
        self.spectrogram.set_spectrogram(None)
        self.timeline.set_scores(None)
        self.timeline.show()
        self.panel.set_file(lf.name, lf.duration_s)
        self.opened.emit(lf)
        self.status.emit(f"{lf.name}: {lf.duration_s / 60:.1f} min", 0)

    def close_file(self) -> None:
        """Another clip is on screen: forget the long file, if one is open."""
        if self.session.file is not None:
            self.session.close()
            self.timeline.set_scores(None)
            self.timeline.hide()
            self.panel.clear_file()

    def shutdown(self) -> None:
        """The window closes: a running scan stops at its next batch, an unfinished WAV is
        dropped (never left half-written)."""
        self.session.close()
        self.session.cancel_save()

    def _overview(self, spec: Any, env: Any) -> None:
        self.spectrogram.set_spectrogram(spec)
        self.plots.waveform.set_envelope(env)
        self.status.emit("Overview ready; zoom in for full detail.", 5000)

    def _rescore(self, window_s: float, hop_s: float) -> None:
        self.session.window_s = window_s or None
        self.session.hop_s = hop_s or None
        self.session.start_scoring()

    def _scored(self, scores: Any) -> None:
        self.timeline.set_scores(scores)
        n = len(scores.windows.starts)
        self.panel.set_scoring(False, f"{n} windows of {scores.window_s:g} s "
                               f"(hop {scores.hop_s:g} s) in {scores.seconds:.1f} s")

    def _events(self, events: list) -> None:
        self.panel.set_events(events)
        self.timeline.set_events(events)

    def _failed(self, exc: Exception, title: str) -> None:
        if title == "Classify":
            self.panel.set_scoring(False, "scoring failed")
        self.failed.emit(exc, title)

    # ------------------------------------------------------------ navigation
    def show_event(self, event: Any) -> None:
        """Zoom the spectrogram to the event (with context) and play from its start."""
        pad = max(2.0, (event.end_s - event.start_s))
        self.spectrogram.plot.setXRange(max(0.0, event.start_s - pad), event.end_s + pad,
                                        padding=0)
        self.seek(event.start_s)

    def seek(self, seconds: float) -> None:
        """Move the cursor to `seconds` and play from there."""
        self.play(seconds)

    def play(self, start_s: float | None = None) -> None:
        """Stream the file from `start_s` (default: the cursor when it is on screen, else the
        start of the view) to its end, or until Stop."""
        lf = self.session.file
        if lf is None:
            return
        if start_s is None:
            start_s = self._play_start()
        start_s = min(max(0.0, start_s), lf.duration_s)
        self.plots.set_cursor(start_s)
        try:
            self.player.play_stream(FileStream(lf.path, start_s).start())
        except Exception as e:  # no output device, device busy: the cursor still moved
            self.status.emit(f"Cannot play sound: {e}", 5000)

    def _play_start(self) -> float:
        x0, x1 = self.spectrogram.plot.viewRange()[0]
        cursor = self.spectrogram.cursor
        if cursor.isVisible() and x0 <= cursor.value() <= x1:
            return float(cursor.value())
        return max(0.0, x0)

    def save_wav(self, path: str) -> None:
        """Save the file as a WAV at the model's rate (what the model hears), in a worker."""
        self.status.emit(f"Saving as WAV to {path}…", 0)
        self.session.save_wav(path)

    def _update_detail(self) -> None:
        if self.session.file is None:
            return
        x0, x1 = self.spectrogram.plot.viewRange()[0]
        if x1 - x0 <= DETAIL_MAX_S:
            margin = (x1 - x0) / 2
            self.session.request_detail(max(0.0, x0 - margin), x1 + margin)
        else:
            self.spectrogram.set_detail(None)
