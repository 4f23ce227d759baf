"""The main window: builds docks and menus (declared in `app.gui.menus`) and connects signals.
It computes nothing itself; decoding, features, inference and model loading run in workers
started by `app.gui.session.Session` and `app.gui.long.long_view.LongView`, and its dialogs
are opened by `app.gui.window_dialogs.WindowDialogs`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QWidget,
)

from app.gui import workers
from app.gui.clip.analysis import ClipAnalysis
from app.gui.clip.clip_view import ClipView
from app.gui.clip.labels_panel import LabelsPanel
from app.gui.error_reporter import ErrorReporter
from app.gui.log import log, log_path
from app.gui.long.long_data import LongFile
from app.gui.long.long_view import LongView
from app.gui.menus import build_menus
from app.gui.session import Session
from app.gui.settings import Settings
from app.gui.widgets.attention_overlay import AttentionControls
from app.gui.widgets.audio_data import Attention, Clip, Envelope, Spectrogram
from app.gui.widgets.display_controls import DisplayControls
from app.gui.widgets.player import Player
from app.gui.window_dialogs import WindowDialogs

AUDIO_FILTER = "Audio (*.wav *.flac *.ogg *.oga *.opus *.mp3 *.aiff *.aif *.au);;All files (*)"


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None):
        super().__init__()
        self.setWindowTitle("AST Studio")
        self.setAcceptDrops(True)
        self.settings = settings or Settings()
        self.errors = ErrorReporter(self)
        self.player = Player(self)
        self.session = Session(
            self.settings.get("compute_device"), self.settings.get("precision"), self
        )
        self.dialogs = WindowDialogs(self, self.session, self.settings, self.errors)
        self._build_views()
        self.long = LongView(self.view, self.player, self)  # overview, score curves, events
        self._build_docks()
        self.menu_actions = build_menus(self, self.docks, self.settings.get)
        self._restore_settings()
        self._connect()
        QTimer.singleShot(0, self.find_start_model)

    # ------------------------------------------------------------ layout
    def _build_views(self) -> None:
        self.view = ClipView()
        self.setCentralWidget(self.view)
        v = self.view
        self.banner, self.hint, self.waveform = v.banner, v.hint, v.waveform
        self.spectrogram, self.timeline = v.spectrogram, v.timeline
        self.model_label = QLabel("loading model…")
        self.model_label.setMinimumWidth(260)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.model_label)

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        self.labels = LabelsPanel()
        self.attention = AttentionControls()
        self.display = DisplayControls()
        self.files = QListWidget()
        right, left = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.LeftDockWidgetArea
        self.docks = [self._dock("Labels", self.labels, right),
                      self._dock("Attention", self.attention, right),
                      self._dock("Display", self.display, right),
                      self._dock("Files", self.files, left)]
        self.events_dock = self._dock("Events", self.long.panel, right)
        self.docks.append(self.events_dock)
        self.resizeDocks([self.docks[3], self.docks[0]], [200, 300], Qt.Orientation.Horizontal)

    def _connect(self) -> None:
        self.labels.label_selected.connect(self.select_label)
        self.labels.options_changed.connect(self._save_label_options)
        self.attention.changed.connect(self._apply_attention_controls)
        self.display.colormap_changed.connect(self._set_colormap)
        self.display.db_range_changed.connect(self._set_db_range)
        self.files.currentItemChanged.connect(self._file_chosen)
        self.timeline.window_clicked.connect(self.show_window_attention)
        ss = self.session
        ss.model_searching.connect(lambda: self.model_label.setText("looking for a model…"))
        ss.model_loading.connect(
            lambda p: self.model_label.setText(f"loading model {Path(p).name}…"))
        ss.model_ready.connect(self._model_ready)
        ss.model_missing.connect(self._model_missing)
        ss.model_failed.connect(self._model_failed)
        ss.clip_shown.connect(self._clip_shown)
        ss.drawn.connect(self._draw)
        ss.classifying.connect(self._classifying)
        ss.progress.connect(lambda p: self.progress.setValue(round(p * 100)))
        ss.classified.connect(self._classified)
        ss.attention_ready.connect(self._show_attention)
        ss.failed.connect(self._failed)
        lv = self.long
        ss.long_opened.connect(lv.open)
        ss.clip_shown.connect(lambda _clip: lv.close_file())
        ss.model_ready.connect(lambda _path, clf: lv.set_classifier(clf))
        lv.opened.connect(self._long_opened)
        lv.status.connect(self.statusBar().showMessage)
        lv.failed.connect(self.errors.report)
        self.player.position.connect(self.view.set_cursor)
        self.player.stopped.connect(lambda: self.view.set_cursor(None))
        self.player.failed.connect(lambda e: self.errors.report(e, "Play"))
        self.banner.download_clicked.connect(self.dialogs.choose_model)
        self.banner.import_clicked.connect(self.dialogs.import_model)
        self.banner.train_clicked.connect(self.dialogs.train)

    def _restore_settings(self) -> None:
        s = self.settings
        if not self.restoreGeometry(s.get("geometry")):
            self.resize(1280, 800)
        self.restoreState(s.get("window_state"))
        self.labels.set_options(s.get("top_k"), s.get("threshold"))
        self.display.set_values(s.get("colormap"), s.get("db_low"), s.get("db_high"))
        self.spectrogram.set_colormap(s.get("colormap"))
        self.spectrogram.set_db_range(s.get("db_low"), s.get("db_high"))
        self.attention.visible.setChecked(s.get("attention_visible"))
        self.attention.opacity.setValue(round(s.get("attention_opacity") * 100))
        self._apply_attention_controls()
        self._update_recent_menu()

    # ------------------------------------------------------------ session state (read-only)
    @property
    def classifier(self) -> Any:
        return self.session.classifier

    @property
    def model_path(self) -> str:
        return self.session.model_path

    @property
    def model_state(self) -> str:
        return self.session.model_state

    @property
    def clip(self) -> Clip | None:
        return self.session.clip

    @property
    def analysis(self) -> ClipAnalysis | None:
        return self.session.analysis

    # ------------------------------------------------------------ models
    def find_start_model(self) -> None:
        self.session.find_start_model(self.settings.get("model"))

    def load_model(self, path: str) -> None:
        self.session.load_model(path)

    def choose_compute(self, setting: str, value: str) -> None:
        """Model ▸ Compute: save the device or precision and reload the model with it."""
        if self.settings.get(setting) == value:
            return
        self.settings.set(setting, value)
        self.session.compute_device = self.settings.get("compute_device")
        self.session.precision = self.settings.get("precision")
        if self.model_path:
            self.load_model(self.model_path)

    def _model_missing(self, message: str) -> None:
        self.model_label.setText("no model")
        self.banner.show_message(message)
        self.labels.set_message(message)

    def _model_ready(self, path: str, c: Any) -> None:
        self.settings.set("model", path)
        self.banner.hide()
        self.model_label.setText(f"model: {Path(path).name} ({c.label_mode}-label, "
                                 f"{len(c.labels)} labels, {c.window_seconds:.2f} s window)")
        log.info("model loaded: %s", path)

    def _model_failed(self, exc: Exception) -> None:
        if self.classifier is None:
            self.model_label.setText("no model loaded")
            self.banner.show_message(f"The model could not be loaded: {exc}")
            self.labels.set_message("No model loaded.")
        self.errors.report(exc, "Model")

    # ------------------------------------------------------------ clips
    def ask_open(self) -> None:
        folder = self.settings.get("last_folder")
        paths, _ = QFileDialog.getOpenFileNames(self, "Open sounds", folder, AUDIO_FILTER)
        if paths:
            self.open_files(paths)

    def open_files(self, paths: list[str]) -> None:
        """Add files to the Files list and show the first of them."""
        paths = [str(Path(p)) for p in paths]
        if not paths:
            return
        self.settings.set("last_folder", str(Path(paths[0]).parent))
        self.files.blockSignals(True)
        known = {self.files.item(i).data(Qt.ItemDataRole.UserRole)
                 for i in range(self.files.count())}
        for p in paths:
            if p not in known:
                item = QListWidgetItem(Path(p).name)
                item.setData(Qt.ItemDataRole.UserRole, p)
                item.setToolTip(p)
                self.files.addItem(item)
        self.files.blockSignals(False)
        self.open_path(paths[0])

    def open_path(self, path: str) -> None:
        self.statusBar().showMessage(f"Opening {Path(path).name}…")
        self.session.open_path(path)

    def _file_shown(self, path: str | None, name: str) -> None:
        """A clip or a long file is now on screen: title, recent files, no hint."""
        if path:
            self.settings.add_recent(path)
            self._update_recent_menu()
        self.setWindowTitle(f"{name} — AST Studio")
        self.hint.hide()

    def _clip_shown(self, clip: Clip) -> None:
        self.player.stop()
        self._file_shown(clip.path, clip.name)
        self.waveform.set_envelope(None)
        self.spectrogram.overlay.set_attention(None)
        self.timeline.hide()
        self.statusBar().showMessage(f"{clip.name}: {clip.duration:.2f} s")
        if self.model_state == "loading":
            self.labels.set_message("loading model…")

    def _long_opened(self, lf: LongFile) -> None:
        self._file_shown(lf.path, lf.name)
        self.timeline.hide()
        self.labels.set_message("Long recording: scores over time are in the timeline under the "
                                "spectrogram, events in the Events dock.")
        self.events_dock.show()
        self.events_dock.raise_()

    def _draw(self, spec: Spectrogram, env: Envelope) -> None:
        self.waveform.set_envelope(env)
        self.spectrogram.set_spectrogram(spec)

    def _classifying(self) -> None:
        self.labels.set_message(f"Classifying {self.clip.name if self.clip else ''}…")
        self.progress.setValue(0)
        self.progress.show()

    def _classified(self, result: ClipAnalysis) -> None:
        self.progress.hide()
        self.labels.set_analysis(result)
        self.attention.set_layers(len([k for k in result.attention.grid if k.startswith("layer")]))
        self._show_attention(result.attention)
        top = result.top(1, 0.0)
        if result.windows is not None and top:
            self.timeline.show()
            self.timeline.set_windows(result.windows, result.labels, top[0][0])
        self.statusBar().showMessage(f"Classified {self.clip.name if self.clip else ''}", 5000)

    def _failed(self, exc: Exception, title: str) -> None:
        if title == "Classify":
            self.progress.hide()
            self.labels.set_message("Classification failed (see the message).")
        if title == "Open":
            self.statusBar().showMessage("Could not open the file.", 5000)
        self.errors.report(exc, title)

    # ------------------------------------------------------------ attention
    def select_label(self, label: str) -> None:
        """Show that label's per-window scores, and attention of the window where it peaks."""
        a = self.analysis
        if a is None or a.windows is None or label not in a.labels:
            self.statusBar().showMessage(
                "The attention map is the clip's (prefix-token attention is shared by all labels).",
                5000)
            return
        self.timeline.set_windows(a.windows, a.labels, label)
        column = a.windows.scores[:, a.labels.index(label)]
        self.show_window_attention(int(column.argmax()))

    def show_window_attention(self, index: int) -> None:
        a = self.analysis
        if a is not None and a.windows is not None:
            self.timeline.mark(float(a.windows.starts[index]), float(a.windows.ends[index]))
            self.session.attention_for_window(index)

    def _show_attention(self, att: Attention) -> None:
        self.spectrogram.overlay.set_attention(att, self.attention.source.currentText())
        self._apply_attention_controls()
        if self.analysis is not None and self.analysis.windows is not None:
            end = att.offset_s + (self.classifier.window_seconds if self.classifier else 0)
            self.timeline.mark(att.offset_s, end)
        end = att.offset_s + att.frames["last layer"].shape[0] * att.frame_shift_s
        self.attention.note.setText(
            f"Window {att.offset_s:.2f}–{end:.2f} s: where the prefix tokens attended more than "
            "evenly (the same map for every label of this window).")

    def _apply_attention_controls(self) -> None:
        self.attention.apply(self.spectrogram.overlay)
        self.settings.set("attention_visible", self.attention.visible.isChecked())
        self.settings.set("attention_opacity", self.attention.opacity.value() / 100)

    # ------------------------------------------------------------ small handlers
    def _set_colormap(self, name: str) -> None:
        self.spectrogram.set_colormap(name)
        self.settings.set("colormap", name)

    def _set_db_range(self, low: float, high: float) -> None:
        self.spectrogram.set_db_range(low, high)
        self.settings.set("db_low", low)
        self.settings.set("db_high", high)

    def _save_label_options(self, k: int, threshold: float) -> None:
        self.settings.set("top_k", k)
        self.settings.set("threshold", threshold)

    def _file_chosen(self, item: QListWidgetItem | None) -> None:
        path = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if path and (self.clip is None or self.clip.path != path):
            self.open_path(path)

    def play(self) -> None:
        """Play the clip, or stream the long recording from the cursor or the view's start."""
        if self.clip is None:
            self.long.play()
            return
        try:
            self.player.play(self.clip.samples, self.clip.rate)
        except Exception as e:  # no output device, device busy
            self.errors.message(f"Cannot play sound: {e}", "Play")

    def stop_playback(self) -> None:
        self.player.stop()

    def save_wav(self, path: str | None = None) -> None:
        """Save the clip, or the long recording (block by block), as a WAV at the model's rate."""
        name = self.clip.name if self.clip is not None else getattr(self.long.file, "name", None)
        if name is None:
            return
        if path is None:
            start = str(Path(self.settings.get("last_folder")) / f"{name}.wav")
            path, _ = QFileDialog.getSaveFileName(self, "Save as WAV", start, "WAV (*.wav)")
        if path and self.clip is not None:
            self.session.save_wav(path)
        elif path:
            self.long.save_wav(path)

    def _update_recent_menu(self) -> None:
        menu = self.menu_actions["recent"]
        menu.clear()
        for p in self.settings.get("recent_files"):
            menu.addAction(p, lambda p=p: self.open_files([p]))
        menu.setEnabled(not menu.isEmpty())

    def open_log(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_path())))

    def about(self) -> None:
        text = f"AST Studio — see and label sounds.\nLog file: {log_path()}"
        QMessageBox.about(self, "AST Studio", text)

    # ------------------------------------------------------------ Qt events
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_files(paths)

    def closeEvent(self, event) -> None:  # noqa: N802
        for child in self.findChildren(QWidget):  # the Live window frees the mic, and so on
            if child.isWindow() and child.isVisible() and not isinstance(child, QDockWidget):
                child.close()
        self.player.stop()
        self.long.shutdown()
        self.settings.set("geometry", self.saveGeometry())
        self.settings.set("window_state", self.saveState())
        self.settings.sync()
        workers.wait_all(10_000)
        super().closeEvent(event)
