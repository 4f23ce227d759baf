"""Long recordings in the main window: connects `LongSession` to the plots and the Events dock.

Built by `MainWindow` with one line; it adds the score-curve timeline under the spectrogram
(x linked) and the "Events" dock, and follows the window's `Session`: a long file it opens goes
to `LongSession`; a short clip shown afterwards closes the long one. Zooming in to
`DETAIL_MAX_S` or less on a long file asks for full-resolution detail of the range on screen
(after the view has been still for a moment). Playback streams the file through the window's
player (`FileStream`: read ahead in chunks by its own thread, never decoded whole).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer

from app.gui.long.events_panel import EventsPanel
from app.gui.long.long_data import DETAIL_MAX_S, LongFile
from app.gui.long.long_session import LongSession
from app.gui.long.long_timeline import LongTimeline
from app.gui.widgets.file_stream import FileStream

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow


class LongView(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.w = window
        self.session = LongSession(self)
        self.panel = EventsPanel()
        self.dock = window._dock("Events", self.panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.timeline = LongTimeline()
        self.timeline.hide()
        self.timeline.setXLink(window.spectrogram.plot)
        window.view.layout().addWidget(self.timeline)
        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.setInterval(250)
        self._detail_timer.timeout.connect(self._update_detail)
        self._connect()

    @property
    def file(self) -> LongFile | None:
        return self.session.file

    def _connect(self) -> None:
        w, ls, p = self.w, self.session, self.panel
        w.session.long_opened.connect(ls.open)
        w.session.clip_shown.connect(self._short_clip)
        w.session.model_ready.connect(lambda _path, clf: ls.set_classifier(clf))
        ls.opened.connect(self._opened)
        ls.overview_progress.connect(
            lambda f: w.statusBar().showMessage(f"Overview {f * 100:.0f} %"))
        ls.overview_ready.connect(self._overview)
        ls.scoring.connect(lambda: p.set_scoring(True, "scoring %p %"))
        ls.progress.connect(p.set_progress)
        ls.scored.connect(self._scored)
        ls.cancelled.connect(lambda: p.set_scoring(False, "cancelled at %p %"))
        ls.events_ready.connect(self._events)
        ls.detail_ready.connect(
            lambda d: w.spectrogram.set_detail(d.spectrogram, d.offset_s))
        ls.exported.connect(lambda path: w.statusBar().showMessage(f"Exported {path}", 5000))
        ls.save_progress.connect(
            lambda f: w.statusBar().showMessage(f"Saving as WAV… {f * 100:.0f} %"))
        ls.saved.connect(lambda path: w.statusBar().showMessage(f"Saved {path}", 5000))
        ls.failed.connect(self._failed)
        p.score_requested.connect(self._rescore)
        p.cancel_requested.connect(ls.cancel)
        p.options_changed.connect(ls.set_event_options)
        p.options_changed.connect(lambda thr, *_: self.timeline.set_threshold(thr))
        p.event_chosen.connect(self.show_event)
        p.export_requested.connect(ls.export)
        self.timeline.time_clicked.connect(self.seek)
        w.spectrogram.plot.sigXRangeChanged.connect(lambda *_: self._detail_timer.start())

    # ------------------------------------------------------------ file state
    def _opened(self, lf: LongFile) -> None:
        w = self.w
        w.player.stop()
        w.settings.add_recent(lf.path)
        w.update_recent_menu()
        w.setWindowTitle(f"{lf.name} — AST Studio")
        w.hint.hide()
        w.waveform.set_envelope(None)
        w.spectrogram.set_spectrogram(None)
        w.timeline.hide()
        w.labels.set_message("Long recording: scores over time are in the timeline under the "
                             "spectrogram, events in the Events dock.")
        self.timeline.set_scores(None)
        self.timeline.show()
        self.panel.set_file(lf.name, lf.duration_s)
        self.dock.show()
        self.dock.raise_()
        w.statusBar().showMessage(f"{lf.name}: {lf.duration_s / 60:.1f} min")

    def _short_clip(self, _clip: Any) -> None:
        if self.session.file is not None:
            self.session.close()
            self.timeline.set_scores(None)
            self.timeline.hide()
            self.panel.set_events([])
            self.panel.file_label.setText("Open a long recording to see its events.")

    def _overview(self, spec: Any, env: Any) -> None:
        self.w.spectrogram.set_spectrogram(spec)
        self.w.waveform.set_envelope(env)
        self.w.statusBar().showMessage("Overview ready; zoom in for full detail.", 5000)

    def _rescore(self, window_s: float, hop_s: float) -> None:
        self.session.window_s = window_s or None
        self.session.hop_s = hop_s or None
        self.session.start_scoring()

    def _scored(self, scores: Any) -> None:
        self.timeline.set_scores(scores)
        n = len(scores.table.starts)
        self.panel.set_scoring(False, f"{n} windows of {scores.window_s:g} s "
                               f"(hop {scores.hop_s:g} s) in {scores.seconds:.1f} s")

    def _events(self, events: list) -> None:
        self.panel.set_events(events)
        self.timeline.set_events(events)

    def _failed(self, exc: Exception, title: str) -> None:
        if title == "Classify":
            self.panel.set_scoring(False, "scoring failed")
        self.w.errors.report(exc, title)

    # ------------------------------------------------------------ navigation
    def show_event(self, event: Any) -> None:
        """Zoom the spectrogram to the event (with context) and play from its start."""
        pad = max(2.0, (event.end_s - event.start_s))
        self.w.spectrogram.plot.setXRange(max(0.0, event.start_s - pad), event.end_s + pad,
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
        self.w.view.set_cursor(start_s)
        try:
            self.w.player.play_stream(FileStream(lf.path, start_s).start())
        except Exception as e:  # no output device, device busy: the cursor still moved
            self.w.statusBar().showMessage(f"Cannot play sound: {e}", 5000)

    def _play_start(self) -> float:
        x0, x1 = self.w.spectrogram.plot.viewRange()[0]
        cursor = self.w.spectrogram.cursor
        if cursor.isVisible() and x0 <= cursor.value() <= x1:
            return float(cursor.value())
        return max(0.0, x0)

    def save_wav(self, path: str) -> None:
        """Save the file as a 16-kHz WAV (what the model hears), in a worker."""
        self.w.statusBar().showMessage(f"Saving as WAV to {path}…")
        self.session.save_wav(path)

    def _update_detail(self) -> None:
        if self.session.file is None:
            return
        x0, x1 = self.w.spectrogram.plot.viewRange()[0]
        if x1 - x0 <= DETAIL_MAX_S:
            margin = (x1 - x0) / 2
            self.session.request_detail(max(0.0, x0 - margin), x1 + margin)
        else:
            self.w.spectrogram.set_detail(None)
