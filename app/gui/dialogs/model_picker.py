"""Choose, download or import a model: installed models (hub cache and the user's own) and the
known AudioSet / Speech Commands checkpoints on the hub.

The cache scan, downloads and imports run in workers; a download reports bytes through a Qt
signal and stops at the next block when Cancel is pressed.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.gui import workers

_ROLE = Qt.ItemDataRole.UserRole


class _Bytes(QObject):
    """Carries download progress from the worker thread to the dialog (queued signal)."""

    progress = Signal(int, int)


def _scan() -> tuple[list[Any], dict[str, str]]:
    from ast_core.store.model_store import KNOWN_HUB_MODELS, installed_models

    return installed_models(), dict(KNOWN_HUB_MODELS)


def _download(repo_id: str, bytes_signal: _Bytes, cancel: threading.Event) -> str:
    from ast_core.store.model_store import download

    return str(download(repo_id, bytes_signal.progress.emit, cancel.is_set))


def _import(path: str) -> str:
    from ast_core.store.model_store import import_model

    return str(import_model(path))


class ModelPicker(QDialog):
    model_chosen = Signal(str)  # a model folder path
    train_requested = Signal()
    failed = Signal(object)  # exceptions for the window's error reporter

    def __init__(self, current: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(620, 460)
        self.current = current
        self.installed = QListWidget()
        self.hub = QListWidget()
        self.status = QLabel("Looking for installed models…")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.hide()
        self.use_button = QPushButton("Use selected model")
        self.download_button = QPushButton("Download")
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.hide()
        self.import_file_button = QPushButton("Import file…")
        self.import_folder_button = QPushButton("Import folder…")
        self.train_button = QPushButton("Train a model…")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Installed</b>"))
        layout.addWidget(self.installed, 2)
        row = QHBoxLayout()
        for b in (self.use_button, self.import_file_button, self.import_folder_button,
                  self.train_button):
            row.addWidget(b)
        layout.addLayout(row)
        layout.addWidget(QLabel("<b>On the Hugging Face hub</b> (needs internet)"))
        layout.addWidget(self.hub, 1)
        row = QHBoxLayout()
        row.addWidget(self.download_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self._bytes = _Bytes(self)
        self._bytes.progress.connect(self._on_progress)
        self._cancel = threading.Event()
        self._download_worker: Any = None
        self.use_button.clicked.connect(self._use)
        self.installed.itemDoubleClicked.connect(lambda _item: self._use())
        self.download_button.clicked.connect(self.download_selected)
        self.cancel_button.clicked.connect(self._cancel.set)
        self.import_file_button.clicked.connect(self.ask_import_file)
        self.import_folder_button.clicked.connect(self._ask_import_folder)
        self.train_button.clicked.connect(self.train_requested)
        self.refresh()

    # ------------------------------------------------------------ listing
    def refresh(self) -> None:
        workers.start(_scan, on_result=self._show, on_error=self._error)

    def _show(self, result: tuple[list[Any], dict[str, str]]) -> None:
        models, known = result
        self.installed.clear()
        for m in models:
            where = "hub cache" if m.origin == "hub" else "your models"
            item = QListWidgetItem(f"{m.name}  —  {where}")
            item.setData(_ROLE, str(m.path))
            item.setToolTip(str(m.path))
            self.installed.addItem(item)
            if str(m.path) == self.current or m.name == self.current:
                self.installed.setCurrentItem(item)
        have = {m.name for m in models}
        self.hub.clear()
        for repo_id, text in known.items():
            mark = "  (installed)" if repo_id in have else ""
            item = QListWidgetItem(f"{repo_id}  —  {text}{mark}")
            item.setData(_ROLE, repo_id)
            self.hub.addItem(item)
        if self.hub.currentRow() < 0 and self.hub.count():
            self.hub.setCurrentRow(0)
        self.status.setText(
            f"{len(models)} installed model(s)." if models else
            "No model is installed yet: download one below, import a file, or train your own."
        )
        self.use_button.setEnabled(bool(models))

    def _use(self) -> None:
        item = self.installed.currentItem()
        if item is not None:
            self.model_chosen.emit(item.data(_ROLE))
            self.accept()

    # ------------------------------------------------------------ download
    def download_selected(self) -> None:
        item = self.hub.currentItem()
        if item is None or self._download_worker is not None:
            return
        repo_id = item.data(_ROLE)
        self._cancel.clear()
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.show()
        self.download_button.setEnabled(False)
        self.status.setText(f"Downloading {repo_id}…")
        self._download_worker = workers.start(
            _download, repo_id, self._bytes, self._cancel,
            on_result=self._downloaded, on_error=self._download_failed,
            on_finish=self._download_done,
        )

    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
            self.progress.setFormat(f"{done / 1e6:.0f} of {total / 1e6:.0f} MB")

    def _downloaded(self, path: str) -> None:
        self.status.setText(f"Downloaded to {path}.")
        self.refresh()

    def _download_failed(self, exc: Exception) -> None:
        from ast_core.store.model_store import DownloadCancelled

        if isinstance(exc, DownloadCancelled):
            self.status.setText("Download cancelled.")
        else:
            self.status.setText(f"Download failed: {exc}")
            self.failed.emit(exc)

    def _download_done(self) -> None:
        self._download_worker = None
        self.progress.hide()
        self.cancel_button.hide()
        self.download_button.setEnabled(True)

    # ------------------------------------------------------------ import
    def ask_import_file(self) -> None:
        """Ask for a `.pth` / `.pt` / `.safetensors` file and import it."""
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a model file", str(Path.home()),
            "AST weights (*.pth *.pt *.safetensors);;All files (*)")
        if path:
            self.import_path(path)

    def _ask_import_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Import a model folder", str(Path.home()))
        if path:
            self.import_path(path)

    def import_path(self, path: str) -> None:
        """Install a `.pth` / `.safetensors` / model folder as one of the user's models."""
        self.status.setText(f"Importing {Path(path).name}…")
        self.import_file_button.setEnabled(False)
        self.import_folder_button.setEnabled(False)
        workers.start(_import, path, on_result=self._imported, on_error=self._import_failed)

    def _imported(self, target: str) -> None:
        self._enable_import()
        self.current = target
        self.status.setText(f"Imported as {Path(target).name}.")
        self.refresh()

    def _import_failed(self, exc: Exception) -> None:
        self._enable_import()
        self.status.setText(f"Import failed: {exc}")
        self.failed.emit(exc)

    def _enable_import(self) -> None:
        self.import_file_button.setEnabled(True)
        self.import_folder_button.setEnabled(True)

    def _error(self, exc: Exception) -> None:
        self.status.setText(f"Could not list models: {exc}")
        self.failed.emit(exc)

    def done(self, result: int) -> None:
        self._cancel.set()  # a running download stops at its next block
        super().done(result)
