"""The training dialog (offscreen): pre-flight in a worker, a real child run, cancel, resume."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QProcess  # noqa: E402

from app.gui.dialogs.train_dialog import TrainDialog  # noqa: E402
from tests.support.gui_helpers import confusion_counts  # noqa: E402
from tests.support.speech_data import FAST_ARGS, say  # noqa: E402


@pytest.fixture(scope="module")
def words(tmp_path_factory) -> Path:
    """Two spoken words, 6 voices each, plus an empty (unusable) file."""
    root = tmp_path_factory.mktemp("dialog-words")
    for word in ("yes", "no"):
        (root / word).mkdir()
        for voice in ("en-us", "en-gb", "en-us+f3", "en-us+m2", "en-029", "en-gb-scotland"):
            say(root / word / f"{voice}.wav", word, voice, 160, 50)
    (root / "no" / "broken.wav").write_bytes(b"")
    return root


@pytest.fixture
def dialog(qtbot, tmp_path):
    dlg = TrainDialog(out_root=tmp_path / "runs",
                      extra_args=[*FAST_ARGS[2:], "--depth", "1",
                                  "--cache-dir", str(tmp_path / "cache")])
    qtbot.addWidget(dlg)
    yield dlg
    dlg.done(0)


def test_preflight_report_and_refusal(dialog, qtbot, words, tmp_path):
    dialog.set_folder(words)
    qtbot.waitUntil(dialog.start_button.isEnabled, timeout=30_000)
    text = dialog.report_view.toPlainText()
    assert "12 usable clips, 2 labels" in text and "broken.wav: file is empty" in text
    assert "1 unusable file" in dialog.status.text()

    (tmp_path / "one" / "only").mkdir(parents=True)
    (tmp_path / "one" / "only" / "a.wav").write_bytes((words / "yes" / "en-us.wav").read_bytes())
    dialog.set_folder(tmp_path / "one")
    qtbot.waitUntil(lambda: "at least 2 labels" in dialog.status.text(), timeout=30_000)
    assert not dialog.start_button.isEnabled()


def test_run_cancel_resume_use(dialog, qtbot, words):
    dialog.set_folder(words)
    qtbot.waitUntil(dialog.start_button.isEnabled, timeout=30_000)
    dialog.init.setCurrentText("scratch")
    dialog.size.setCurrentText("tiny")
    dialog.epochs.setValue(200)  # far more than we wait for: Cancel stops it
    dialog.val_fraction.setValue(0.34)
    dialog.start_button.click()
    assert dialog.running and dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: any(e["event"] == "checkpoint" for e in dialog.events),
                    timeout=90_000)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: dialog.process.state() == QProcess.NotRunning, timeout=15_000)
    assert "cancelled" in dialog.status.text()
    assert dialog.resume_button.isEnabled() and not dialog.use_button.isEnabled()
    seen = [e["epoch"] for e in dialog.events if e["event"] == "epoch"]
    assert seen and dialog.progress.value() > 0
    assert dialog.curves.train_loss.getData()[0] is not None
    assert sum(map(sum, confusion_counts(dialog.confusion))) == 4  # 2 validation clips per word
    assert not any(e["event"] == "done" for e in dialog.events)

    dialog.epochs.setValue(seen[-1] + 2)  # resume, then finish soon
    dialog.resume_button.click()
    with qtbot.waitSignal(dialog.model_ready, timeout=90_000) as ready:
        qtbot.waitUntil(dialog.use_button.isEnabled, timeout=90_000)
        dialog.use_button.click()
    model = Path(ready.args[0])
    starts = [e for e in dialog.events if e["event"] == "start"]
    assert starts[-1]["first_epoch"] >= 2  # it continued rather than starting over
    assert json.loads((model / "config.json").read_text())["id2label"] == {"0": "no",
                                                                           "1": "yes"}
    assert dialog.progress.value() == 1000
