"""Playback cursor, the log file, recent files, the Train action's wiring, the Compute menu."""

from __future__ import annotations

import sys
import types

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.gui.log import log_path, setup_logging
from tests.support.gui_helpers import WAIT_MS, make_window, message_text, wait_classified


def test_play_moves_the_cursor_then_stops(qtbot, alsa_file_mic, tiny_model, tone_wav):
    alsa_file_mic(np.zeros(16, np.int16))  # playback goes to ALSA's null device
    w = make_window(qtbot, tiny_model)
    w.open_files([str(tone_wav)])
    wait_classified(qtbot, w)
    positions: list[float] = []
    w.player.position.connect(positions.append)
    with qtbot.waitSignal(w.player.stopped, timeout=WAIT_MS):
        w.menu_actions["play"].trigger()
        assert w.player.playing
    assert positions and max(positions) > 0.5  # the null device plays faster than real time
    assert np.all(np.diff(positions) >= 0)
    assert not w.spectrogram.cursor.isVisible()  # hidden again after the end


def test_errors_go_to_the_log_file(qtbot, tmp_path):
    setup_logging()
    w = make_window(qtbot)
    w.open_files([str(tmp_path / "missing.wav")])
    qtbot.waitUntil(lambda: message_text(w) is not None, timeout=WAIT_MS)
    assert "file not found" in message_text(w)
    text = log_path().read_text(encoding="utf-8")
    assert "missing.wav: file not found" in text and "AudioError" in text  # with the traceback
    assert w.menu_actions["open_log"].text() == "Open &log file"


def test_recent_files_menu(qtbot, tiny_model, tone_wav):
    w = make_window(qtbot, tiny_model)
    w.open_files([str(tone_wav)])
    wait_classified(qtbot, w)
    entries = [a.text() for a in w.menu_actions["recent"].actions()]
    assert entries == [str(tone_wav)]


def test_train_action_loads_the_model_the_train_dialog_made(qtbot, monkeypatch, tiny_model):
    w = make_window(qtbot)
    assert w.model_state == "none"

    class FakeTrainDialog(QObject):  # stands in for the trainer's dialog and its child process
        model_ready = Signal(str)

        def __init__(self, parent=None):
            super().__init__(parent)

        def open(self):
            self.model_ready.emit(str(tiny_model))

    monkeypatch.setitem(sys.modules, "app.gui.dialogs.train_dialog",
                        types.SimpleNamespace(TrainDialog=FakeTrainDialog))
    w.menu_actions["train"].trigger()
    qtbot.waitUntil(lambda: w.model_state == "ready", timeout=WAIT_MS)
    assert w.model_path == str(tiny_model)


def test_compute_menu_reloads_the_model_at_the_chosen_precision(qtbot, tiny_model, tone_wav):
    w = make_window(qtbot, tiny_model)
    qtbot.waitUntil(lambda: w.model_state == "ready", timeout=WAIT_MS)
    assert w.classifier.precision in ("fp32", "bf16")  # automatic
    first = w.classifier
    w.menu_actions["precision:int8"].trigger()
    qtbot.waitUntil(lambda: w.classifier is not first and w.model_state == "ready", timeout=WAIT_MS)
    assert w.classifier.precision == "int8" and w.settings.get("precision") == "int8"
    w.open_files([str(tone_wav)])
    wait_classified(qtbot, w)  # the int8 model classifies
    assert w.analysis is not None
    w.menu_actions["compute_device:cpu"].trigger()
    qtbot.waitUntil(lambda: w.classifier.device.type == "cpu" and w.model_state == "ready")
    assert w.settings.get("compute_device") == "cpu"
    checked = {key for key, a in w.menu_actions.items() if key.startswith("precision:")
               and a.isChecked()}
    assert checked == {"precision:int8"}
