"""Batch classify a folder: pre-flight, a journaled run with progress, Cancel/Resume, exports.

Choosing a folder runs the pre-flight (every file probed in a worker; unreadable and odd files
listed with reasons before anything starts). Start classifies every file with the loaded
model (bad files get an error row, as in `ast-studio classify`); Resume skips the files the
journal already holds (a cancelled or crashed run). A 200-ms timer adds rows as the worker
finishes files and updates files/s and the ETA; the worker never touches widgets.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.gui import workers
from app.gui.dialogs import batch_jobs
from app.gui.dialogs.batch_jobs import Options, Preflight, RunState
from ast_core.run.exports import FORMAT_NAMES

COLUMNS = ["File", "Duration (s)", "Top labels", "Error"]


class BatchDialog(QDialog):
    finished_run = Signal(list)  # the results table when a run ends (done or cancelled)
    failed = Signal(object)

    def __init__(self, classifier: Any, folder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Batch classify a folder")
        self.resize(900, 600)
        self.classifier = classifier
        self.preflight: Preflight | None = None
        self.state: RunState | None = None
        self.results: list[dict] = []
        self.journal: Path | None = None
        self._shown = 0
        self._timer = QTimer(self)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self._tick)
        self._build(folder)
        if classifier is None:
            self.summary.setText("Load a model first (Model ▸ Choose…): the batch uses it.")

    def _build(self, folder: str) -> None:
        self.folder = QLineEdit(folder)
        browse = QPushButton("Folder…")
        browse.clicked.connect(self._ask_folder)
        self.recursive = QCheckBox("Include subfolders")
        self.top_k = QSpinBox()
        self.top_k.setRange(1, 50)
        self.top_k.setValue(3)
        self.events = QCheckBox("Events, threshold")
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(0.5)
        self.check_button = QPushButton("Check files")
        self.start_button = QPushButton("Start")
        self.resume_button = QPushButton("Resume")
        self.cancel_button = QPushButton("Cancel")
        for b in (self.start_button, self.resume_button, self.cancel_button):
            b.setEnabled(False)
        self.summary = QLabel("Choose a folder.")
        self.summary.setWordWrap(True)
        self.problems = QTableWidget(0, 2)
        self.problems.setHorizontalHeaderLabels(["File", "Problem"])
        self.problems.setMaximumHeight(140)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        for t in (self.problems, self.table):
            t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            t.verticalHeader().hide()
            t.horizontalHeader().setStretchLastSection(True)
        self.bar = QProgressBar()
        self.speed = QLabel("")
        self.export_table_button = QPushButton("Export table…")
        self.event_format = QComboBox()
        for fmt, name in FORMAT_NAMES.items():
            self.event_format.addItem(name, fmt)
        self.export_events_button = QPushButton("Export events…")
        for b in (self.export_table_button, self.export_events_button):
            b.setEnabled(False)

        top = QHBoxLayout()
        for w in (QLabel("Folder"), self.folder, browse, self.recursive):
            top.addWidget(w)
        top.setStretchFactor(self.folder, 1)
        opts = QHBoxLayout()
        for w in (QLabel("Top labels"), self.top_k, self.events, self.threshold):
            opts.addWidget(w)
        opts.addStretch(1)
        for w in (self.check_button, self.start_button, self.resume_button, self.cancel_button):
            opts.addWidget(w)
        progress = QHBoxLayout()
        progress.addWidget(self.bar, 1)
        progress.addWidget(self.speed)
        exports = QHBoxLayout()
        exports.addWidget(self.export_table_button)
        exports.addStretch(1)
        exports.addWidget(self.event_format)
        exports.addWidget(self.export_events_button)
        layout = QVBoxLayout(self)
        for part in (top, opts, self.summary, self.problems, progress, self.table, exports):
            (layout.addLayout if isinstance(part, QHBoxLayout) else layout.addWidget)(part)
        layout.setStretchFactor(self.table, 1)

        self.check_button.clicked.connect(self.check)
        self.start_button.clicked.connect(lambda: self.start(resume=False))
        self.resume_button.clicked.connect(lambda: self.start(resume=True))
        self.cancel_button.clicked.connect(self.cancel)
        self.folder.returnPressed.connect(self.check)
        self.recursive.toggled.connect(lambda _: self.check())
        self.export_table_button.clicked.connect(self._ask_export_table)
        self.export_events_button.clicked.connect(self._ask_export_events)

    # ------------------------------------------------------------ pre-flight
    def _ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder to classify", self.folder.text())
        if folder:
            self.folder.setText(folder)
            self.check()

    def options(self) -> Options:
        return Options(top_k=self.top_k.value(), events=self.events.isChecked(),
                       threshold=self.threshold.value())

    def check(self) -> None:
        folder = self.folder.text().strip()
        if not folder or self.running:
            return
        self.preflight = None
        self.start_button.setEnabled(False)
        self.resume_button.setEnabled(False)
        self.summary.setText(f"Checking the files in {folder}…")
        workers.start(batch_jobs.preflight, folder, self.recursive.isChecked(),
                      on_yield=lambda p: self.bar.setValue(round(p * 100)),
                      on_result=self._checked, on_error=self._error)

    def _checked(self, pre: Preflight) -> None:
        self.preflight = pre
        self.problems.setRowCount(len(pre.problems))
        for row, (path, reason) in enumerate(pre.problems):
            self.problems.setItem(row, 0, QTableWidgetItem(Path(path).name))
            self.problems.setItem(row, 1, QTableWidgetItem(reason))
        readable = len(pre.durations)
        self.summary.setText(
            f"{len(pre.files)} files, {readable} readable ({pre.total_s / 60:.1f} min of audio), "
            f"{pre.unreadable} unreadable, {len(pre.problems) - pre.unreadable} odd "
            "(listed below; unreadable files get an error row).")
        self._update_resume()
        self.start_button.setEnabled(self.classifier is not None and bool(pre.files))

    def _update_resume(self) -> None:
        if self.preflight is None or self.classifier is None:
            return
        self.journal = batch_jobs.journal_path(self.preflight.files, self.classifier.name,
                                               self.options())
        done = batch_jobs.journal_count(self.journal) if self.journal.exists() else 0
        self.resume_button.setEnabled(done > 0)
        self.resume_button.setText(f"Resume ({done} done)" if done else "Resume")

    # ------------------------------------------------------------ run
    @property
    def running(self) -> bool:
        return self.state is not None

    def start(self, resume: bool = False) -> None:
        if self.preflight is None or self.classifier is None or self.running:
            return
        self._update_resume()
        self.state = state = RunState()
        self.results, self._shown = [], 0
        self.table.setRowCount(0)
        self.bar.setRange(0, len(self.preflight.files))
        self.bar.setValue(0)
        for b in (self.start_button, self.resume_button, self.check_button,
                  self.export_table_button, self.export_events_button):
            b.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._timer.start()
        workers.start(batch_jobs.run, self.classifier, self.preflight.files, self.journal,
                      resume, self.options(), state,
                      on_result=lambda r: self._done(state, r),
                      on_error=lambda e: self._done(state, None, e))

    def cancel(self) -> None:
        """Stop after the file being classified (its result is not kept; Resume redoes it)."""
        if self.state is not None:
            self.state.cancel()
            self.speed.setText("cancelling…")

    def _tick(self) -> None:
        state = self.state
        if state is None:
            return
        new = state.results[self._shown :]
        for r in new:
            self._add_row(r)
        self._shown += len(new)
        done, total = self._shown, len(self.preflight.files) if self.preflight else 0
        self.bar.setValue(done)
        fresh = done - min(state.skipped, done)
        elapsed = time.monotonic() - state.started
        rate = fresh / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else float("nan")
        eta_text = f"{int(eta // 60)}:{int(eta % 60):02d}" if eta == eta else "–"
        self.speed.setText(f"{done}/{total} files · {rate:.2f} files/s · ETA {eta_text}")

    def _add_row(self, r: dict) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        top = ", ".join(f"{t['label']} {t['score']:.2f}" for t in r["top"])
        duration = f"{r['duration_s']:.2f}" if r["duration_s"] is not None else ""
        for col, text in enumerate([Path(r["file"]).name, duration, top, r["error"] or ""]):
            item = QTableWidgetItem(text)
            item.setToolTip(r["file"] if col == 0 else text)
            self.table.setItem(row, col, item)

    def _done(self, state: RunState, results: list[dict] | None, exc: Exception | None = None):
        from ast_core.run.classifier import Cancelled

        self._tick()
        self._timer.stop()
        self.state = None
        self.results = list(results) if results is not None else list(state.results)
        self.cancel_button.setEnabled(False)
        self.check_button.setEnabled(True)
        self.start_button.setEnabled(True)
        self._update_resume()
        for b in (self.export_table_button, self.export_events_button):
            b.setEnabled(bool(self.results))
        total = len(self.preflight.files) if self.preflight else 0
        stopped = state.cancelled() or isinstance(exc, Cancelled)
        if exc is not None and not isinstance(exc, Cancelled):
            self._error(exc)
        errors = sum(1 for r in self.results if r["error"])
        self.summary.setText(
            f"{'Cancelled' if stopped else 'Done'}: {len(self.results)} of {total} files, "
            f"{errors} with errors." + (" Resume continues where it stopped." if stopped else ""))
        self.finished_run.emit(self.results)

    def _error(self, exc: Exception) -> None:
        self.summary.setText(f"Failed: {exc}")
        self.failed.emit(exc)

    # ------------------------------------------------------------ exports
    def _ask_export_table(self) -> None:
        start = str(Path(self.folder.text()) / "classified.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Export table", start,
                                              "CSV (*.csv);;JSON (*.json)")
        if path:
            self.export_table(path)

    def export_table(self, path: str) -> None:
        workers.start(batch_jobs.export_table, path, list(self.results),
                      on_result=lambda p: self.summary.setText(f"Table written to {p}"),
                      on_error=self._error)

    def _ask_export_events(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the event files",
                                                  self.folder.text())
        if folder:
            self.export_events(folder, self.event_format.currentData())

    def export_events(self, folder: str, fmt: str) -> None:
        workers.start(batch_jobs.export_events, folder, list(self.results), fmt,
                      on_result=lambda ps: self.summary.setText(
                          f"{len(ps)} event files written to {folder}"),
                      on_error=self._error)

    def closeEvent(self, event) -> None:  # noqa: N802
        self.cancel()
        super().closeEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape and self.running:
            self.cancel()
            return
        super().keyPressEvent(event)
