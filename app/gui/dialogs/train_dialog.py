"""Train a model on a labeled folder: pre-flight report, options, then a child training process.

The run is `python -m trainer ... --progress jsonl` in a QProcess, so a crash or an
out-of-memory never takes the window down and Cancel can always stop it (the last checkpoint
stays; Resume continues it). Each stdout line is one JSON progress event (see
`trainer.progress`). When the run is done, "Use this model" emits `model_ready(model_folder)`.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QProcess, QProcessEnvironment, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from superqt import QCollapsible

from app.gui import workers
from app.gui.dialogs.train_plots import ConfusionTable, TrainCurves
from ast_core.store.model_store import data_dir
from trainer.data import DataError, PreflightReport, iter_preflight, load_source

CHECKPOINT = "checkpoint.pt"  # trainer.state.CHECKPOINT, without importing torch here


def _scan(folder: str):
    """Worker: scan and pre-flight a folder; yields (done, total), returns the report."""
    return (yield from iter_preflight(load_source(folder)))


class TrainDialog(QDialog):
    model_ready = Signal(str)  # the finished model folder
    event_received = Signal(dict)  # every progress event of the child process

    def __init__(self, parent: QWidget | None = None, out_root: str | Path | None = None,
                 extra_args: Sequence[str] = ()):
        super().__init__(parent)
        self.setWindowTitle("Train a model")
        self.out_root = Path(out_root) if out_root else data_dir() / "training"
        self.extra_args = list(extra_args)  # appended to every new run (tests, power users)
        self.process: QProcess | None = None
        self.out: Path | None = None
        self.model_path: str | None = None
        self.labels: list[str] = []
        self.events: list[dict] = []
        self._epochs = 1
        self._worker = None
        self._cancelled = False
        self._stdout = b""

        self.folder = QLineEdit(placeholderText="folder with one subfolder per label")
        self.folder.editingFinished.connect(lambda: self.set_folder(self.folder.text()))
        browse = QPushButton("Browse…", clicked=self._browse)
        self.report_view = QPlainTextEdit(readOnly=True, maximumHeight=130)
        self.status = QLabel(wordWrap=True)

        options = self._option_widgets()
        log_box = self._run_widgets()
        self._lay_out(browse, options, log_box)

    def _option_widgets(self) -> QFormLayout:
        """The run's options (the advanced ones in a collapsible box); returns the main form."""
        self.init = QComboBox()
        self.init.addItems(["imagenet", "audioset", "scratch"])
        self.size = QComboBox()
        self.size.addItems(["tiny", "small", "base224", "base384"])
        self.size.setCurrentText("base384")
        self.epochs = QSpinBox(minimum=1, maximum=500, value=25)
        self.preset = QComboBox()
        self.preset.addItems(["auto", "speechcommands", "esc50", "audioset"])
        self.lr = QLineEdit(placeholderText="preset")
        self.batch = QSpinBox(minimum=0, maximum=1024, value=0, specialValueText="preset")
        self.val_fraction = QDoubleSpinBox(minimum=0.05, maximum=0.5, value=0.2, singleStep=0.05)
        self.imagenet_weights = QLineEdit(placeholderText="timm file (offline), or download")
        self.audioset_model = QLineEdit(placeholderText="MIT/ast-finetuned-audioset-10-10-0.4593")
        self.balanced = QCheckBox("class-balanced sampling")
        self.patience = QSpinBox(minimum=0, maximum=100, value=0, specialValueText="off")
        self.wa_last = QSpinBox(minimum=0, maximum=100, value=0, specialValueText="off")
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)

        options = QFormLayout()
        options.addRow("Initial weights", self.init)
        options.addRow("Model size", self.size)
        options.addRow("Epochs", self.epochs)
        options.addRow("Recipe", self.preset)
        advanced_box = QWidget()
        advanced = QFormLayout(advanced_box)
        advanced.addRow("Learning rate", self.lr)
        advanced.addRow("Batch size", self.batch)
        advanced.addRow("Validation fraction", self.val_fraction)
        advanced.addRow("ImageNet weights", self.imagenet_weights)
        advanced.addRow("AudioSet model", self.audioset_model)
        advanced.addRow("", self.balanced)
        advanced.addRow("Early stopping patience", self.patience)
        advanced.addRow("Average last N epochs", self.wa_last)
        advanced.addRow("Seed", self.seed)
        self.advanced = QCollapsible("Advanced")
        self.advanced.addWidget(advanced_box)
        return options

    def _run_widgets(self) -> QCollapsible:
        """Buttons, progress, curves, confusion matrix; returns the collapsible log."""
        self.start_button = QPushButton("Start", enabled=False, clicked=self.start)
        self.cancel_button = QPushButton("Cancel", enabled=False, clicked=self.cancel)
        self.resume_button = QPushButton("Resume", enabled=False, clicked=self.resume)
        self.use_button = QPushButton("Use this model", enabled=False, clicked=self._use)
        self.progress = QProgressBar(maximum=1000, textVisible=True)
        self.eta = QLabel()
        self.curves = TrainCurves()
        self.confusion = ConfusionTable()
        self.log_view = QPlainTextEdit(readOnly=True, maximumHeight=120)
        self.log_view.setMaximumBlockCount(500)
        log_box = QCollapsible("Log")
        log_box.addWidget(self.log_view)
        return log_box

    def _lay_out(self, browse: QPushButton, options: QFormLayout, log_box: QCollapsible) -> None:
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.cancel_button, self.resume_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        bar = QHBoxLayout()
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.eta)
        views = QSplitter()
        views.addWidget(self.curves)
        views.addWidget(self.confusion)
        views.setSizes([620, 360])
        layout = QVBoxLayout(self)
        for item in (row, self.report_view, self.status, options, self.advanced, buttons, bar,
                     views, log_box):
            (layout.addLayout if isinstance(item, QHBoxLayout | QFormLayout)
             else layout.addWidget)(item)
        self.resize(980, 760)

    # ------------------------------------------------------------ pre-flight

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder with one subfolder per label")
        if folder:
            self.set_folder(folder)

    def set_folder(self, folder: str | Path) -> None:
        """Show `folder` and check it in a worker thread; Start unlocks when it is usable."""
        self.folder.setText(str(folder))
        self.start_button.setEnabled(False)
        self.report_view.setPlainText("checking clips…")
        self._set_status("")
        if self._worker is not None:
            self._worker.quit()
        self._worker = workers.start(
            _scan, str(folder), on_result=self._show_report, on_error=self._scan_failed,
            on_yield=lambda p: self.report_view.setPlainText(f"checking clips… {p[0]}/{p[1]}"),
        )

    def _show_report(self, report: PreflightReport) -> None:
        self.report_view.setPlainText(report.summary())
        try:
            report.check()
        except DataError as e:
            self._set_status(str(e), error=True)
            return
        skipped = len(report.problems)
        self._set_status(f"ready; {skipped} unusable file(s) will be left out" if skipped
                         else "ready")
        self.start_button.setEnabled(not self.running)

    def _scan_failed(self, exc: Exception) -> None:
        self.report_view.clear()
        self._set_status(str(exc), error=True)

    # ------------------------------------------------------------ the child process

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.NotRunning

    def run_args(self) -> list[str]:
        """CLI arguments for a new run from the dialog's choices."""
        args = [self.folder.text(), "--out", str(self.out), "--init", self.init.currentText(),
                "--size", self.size.currentText(), "--epochs", str(self.epochs.value()),
                "--val-fraction", f"{self.val_fraction.value():g}",
                "--seed", str(self.seed.value())]
        optional = {"--preset": "" if self.preset.currentText() == "auto" else
                    self.preset.currentText(), "--lr": self.lr.text().strip(),
                    "--batch-size": str(self.batch.value() or ""),
                    "--imagenet-weights": self.imagenet_weights.text().strip(),
                    "--audioset-model": self.audioset_model.text().strip(),
                    "--patience": str(self.patience.value() or ""),
                    "--wa-last": str(self.wa_last.value() or "")}
        args += [x for flag, value in optional.items() if value for x in (flag, value)]
        return args + (["--balanced"] if self.balanced.isChecked() else []) + self.extra_args

    def start(self) -> None:
        name = Path(self.folder.text()).name or "model"
        self.out = self.out_root / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        self.curves.clear()
        self.model_path = None
        self._launch(self.run_args())

    def resume(self) -> None:
        if self.out is not None:
            self._launch(["--out", str(self.out), "--resume", "--epochs",
                          str(self.epochs.value())])

    def cancel(self) -> None:
        """Stop the process; the checkpoint of the last finished epoch stays on disk."""
        if self.running:
            self._cancelled = True
            self.process.terminate()
            QTimer.singleShot(5000, lambda p=self.process: p.state() != QProcess.NotRunning
                              and p.kill())

    def _launch(self, args: list[str]) -> None:
        self._cancelled = False
        self._stdout = b""
        self.process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        self.process.setProcessEnvironment(env)
        self.process.readyReadStandardOutput.connect(self._read_stdout)
        self.process.readyReadStandardError.connect(self._read_stderr)
        self.process.finished.connect(self._finished)
        self.log_view.appendPlainText("$ python -m trainer " + " ".join(args))
        self.process.start(sys.executable, ["-m", "trainer", *args, "--progress", "jsonl"])
        for b, on in ((self.start_button, False), (self.resume_button, False),
                      (self.cancel_button, True), (self.use_button, False)):
            b.setEnabled(on)
        self._set_status("starting…")

    def _read_stderr(self) -> None:
        text = bytes(self.process.readAllStandardError()).decode(errors="replace")
        self.log_view.appendPlainText(text.rstrip())

    def _read_stdout(self) -> None:
        self._stdout += bytes(self.process.readAllStandardOutput())
        *lines, self._stdout = self._stdout.split(b"\n")
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                self.log_view.appendPlainText(line.decode(errors="replace"))
                continue
            self.events.append(event)
            self._handle(event)
            self.event_received.emit(event)

    def _handle(self, e: dict) -> None:
        kind = e["event"]
        if kind == "features":
            self._set_status(f"computing features ({e['split']}) {e['done']}/{e['total']}")
        elif kind == "start":
            self.labels, self._epochs = e["labels"], e["epochs"]
            self._set_status(f"training on {e['train_clips']} clips ({e['device']})")
        elif kind == "batch":
            self._set_progress(e["epoch"] - 1 + e["step"] / e["steps"])
        elif kind == "epoch":
            self._set_progress(e["epoch"])
            self.eta.setText(f"epoch {e['epoch']}/{e['epochs']} · ETA {e['eta_s']:.0f} s")
            self.curves.add_epoch(e)
            self.confusion.show_matrix(self.labels, e["val"]["confusion"])
            value = e["val"].get(e["metric"])
            self._set_status(f"epoch {e['epoch']}: train loss {e['train_loss']:.3f}, "
                             f"val {e['metric']} {value if value is None else f'{value:.3f}'}")
        elif kind == "done":
            self.model_path = e["model"]
            self._set_progress(self._epochs)
            self._set_status(f"done: {e['weights']}")
        elif kind == "error":
            self._set_status(e["message"], error=True)

    def _finished(self, code: int, _status) -> None:
        self._read_stdout()
        can_resume = self.out is not None and (self.out / CHECKPOINT).exists()
        self.cancel_button.setEnabled(False)
        self.start_button.setEnabled(bool(self.folder.text()))
        self.resume_button.setEnabled(can_resume and self.model_path is None)
        self.use_button.setEnabled(self.model_path is not None)
        if self._cancelled:
            self._set_status("cancelled; the last finished epoch is kept — Resume continues it"
                             if can_resume else "cancelled")
        elif code != 0 and not any(ev["event"] == "error" for ev in self.events[-3:]):
            self._set_status(f"training stopped (exit status {code}); see Log", error=True)

    def _set_progress(self, epochs_done: float) -> None:
        self.progress.setValue(int(1000 * epochs_done / max(self._epochs, 1)))

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #c0392b;" if error else "")
        self.status.setText(text)

    def _use(self) -> None:
        if self.model_path:
            self.model_ready.emit(self.model_path)
            self.accept()

    def done(self, result: int) -> None:  # accept/reject/close: never leave a child running
        if self.running:
            self.process.terminate()
            self.process.waitForFinished(3000)
        if self._worker is not None:
            self._worker.quit()
        super().done(result)
