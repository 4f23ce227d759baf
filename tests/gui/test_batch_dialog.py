"""The batch dialog offers the core's export formats by name and exports the one chosen."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog

from app.gui.dialogs.batch_dialog import BatchDialog
from ast_core.run.exports import FORMAT_NAMES


def test_event_export_uses_the_format_chosen_by_name(qtbot, monkeypatch, tmp_path):
    dialog = BatchDialog(None, str(tmp_path))
    qtbot.addWidget(dialog)
    combo = dialog.event_format
    assert [combo.itemText(i) for i in range(combo.count())] == list(FORMAT_NAMES.values())
    chosen: list[tuple[str, str]] = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *_args: str(tmp_path)))
    monkeypatch.setattr(dialog, "export_events", lambda folder, fmt: chosen.append((folder, fmt)))
    combo.setCurrentText("Audacity labels")
    dialog.export_events_button.setEnabled(True)  # as after a run with results
    dialog.export_events_button.click()
    assert chosen == [(str(tmp_path), "audacity")]
