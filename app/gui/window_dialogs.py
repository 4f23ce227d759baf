"""The main window's dialogs (and the Live window): each method opens one, connects it to the
window's `Session`, `Settings` and `ErrorReporter`, and returns it.

The dialogs live in `app.gui.dialogs` and `app.gui.live` and are imported when first opened, so
the window appears before their imports (and torch) are paid for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QWidget

from app.gui.error_reporter import ErrorReporter
from app.gui.session import Session
from app.gui.settings import Settings

if TYPE_CHECKING:
    from app.gui.dialogs.batch_dialog import BatchDialog
    from app.gui.dialogs.model_picker import ModelPicker
    from app.gui.dialogs.record_dialog import RecordDialog
    from app.gui.dialogs.train_dialog import TrainDialog
    from app.gui.live.live_view import LiveWindow


class WindowDialogs(QObject):
    """Opens dialogs over `window`; a model they produce is loaded through `session`."""

    def __init__(self, window: QWidget, session: Session, settings: Settings,
                 errors: ErrorReporter):
        super().__init__(window)
        self._window, self._session, self._settings, self._errors = (
            window, session, settings, errors)

    def choose_model(self) -> ModelPicker:
        """Installed models, the hub's, import and train (`dialogs.model_picker`)."""
        from app.gui.dialogs.model_picker import ModelPicker

        picker = ModelPicker(self._session.model_path, self._window)
        picker.model_chosen.connect(self._session.load_model)
        picker.train_requested.connect(self.train)
        picker.failed.connect(lambda e: self._errors.report(e, "Models"))
        picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        picker.open()
        return picker

    def import_model(self) -> ModelPicker:
        """The model picker, asking straight away for a model file to import."""
        picker = self.choose_model()
        picker.ask_import_file()
        return picker

    def train(self) -> TrainDialog:
        """Train a model on a labeled folder (`dialogs.train_dialog`); the result loads."""
        from app.gui.dialogs.train_dialog import TrainDialog

        dialog = TrainDialog(self._window)
        dialog.model_ready.connect(self._session.load_model)
        dialog.open()
        return dialog

    def batch(self, folder: str = "") -> BatchDialog:
        """Classify every audio file of a folder with the loaded model (`dialogs.batch_dialog`)."""
        from app.gui.dialogs.batch_dialog import BatchDialog

        dialog = BatchDialog(self._session.classifier,
                             folder or self._settings.get("last_folder"), self._window)
        dialog.failed.connect(lambda e: self._errors.report(e, "Batch"))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def live(self) -> LiveWindow | None:
        """Live tagging from a microphone with the loaded model (`app.gui.live.live_view`);
        None, with a message, when no model is loaded."""
        if self._session.classifier is None:
            self._errors.message("Load a model first (Model ▸ Choose…): live tagging uses it.",
                                 "Live")
            return None
        from app.gui.live.live_view import LiveWindow

        window = LiveWindow(self._session.classifier, self._settings.get("input_device"),
                            self._window)
        window.failed.connect(lambda e: self._errors.report(e, "Live"))
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.show()
        return window

    def record(self) -> RecordDialog:
        """Record from a microphone (`dialogs.record_dialog`); the recording opens as a clip."""
        from app.gui.dialogs.record_dialog import RecordDialog

        dialog = RecordDialog(self._settings.get("input_device"), self._window)
        dialog.recorded.connect(self._session.open_recording)
        dialog.failed.connect(lambda e: self._errors.report(e, "Record"))
        dialog.accepted.connect(
            lambda: self._settings.set("input_device", dialog.device.currentText()))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()  # with no microphone, the dialog says so through `failed`
        return dialog
