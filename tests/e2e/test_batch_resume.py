"""Batch runs over a folder mixing good and bad files: killed mid-run and resumed (command line),
cancelled and resumed (Batch dialog); either way the final table equals an uninterrupted run's.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from app.gui.dialogs.batch_dialog import BatchDialog
from ast_core.run.exports import RAVEN_COLUMNS
from bench.common import write_long_recording
from tests.support.audio_corpus import BAD_CASES, write_bad_corpus
from tests.support.gui_helpers import WAIT_MS

GOOD = 8
OPTIONS = ["--recursive", "--top-k", "3", "--events", "--threshold", "0.5"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """`a good/` (8 × 40 s, beeps at known times, 2 in a subfolder) then `bad/` (BAD_CASES)."""
    root = tmp_path_factory.mktemp("batch")
    for i in range(GOOD):
        sub = root / "a good" / ("deeper" if i >= GOOD - 2 else "")
        sub.mkdir(parents=True, exist_ok=True)
        write_long_recording(sub / f"take {i}.wav", 40.0, [(5.0 + 3 * i, 0.5)], seed=i)
    write_bad_corpus(root / "bad")
    return root


@pytest.fixture(scope="module")
def model(beep_model):
    return beep_model


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "AST_STUDIO_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"}


def _classify(model, folder, out, *extra) -> list[str]:
    return [sys.executable, "-m", "app", "classify", str(folder), "--model", str(model),
            *OPTIONS, "--format", "json", "--out", str(out), *extra]


@pytest.fixture(scope="module")
def uninterrupted(corpus, model, tmp_path_factory):
    out = tmp_path_factory.mktemp("full") / "full.json"
    r = subprocess.run(_classify(model, corpus, out), capture_output=True, text=True,
                       timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert r.returncode == 2, r.stderr  # 2: some files had errors
    return json.loads(out.read_text())


def _same_table(a: list[dict], b: list[dict]) -> None:
    assert [r["file"] for r in a] == [r["file"] for r in b]
    for x, y in zip(a, b, strict=True):
        assert x["error"] == y["error"] and x["duration_s"] == y["duration_s"], x["file"]
        assert [t["label"] for t in x["top"]] == [t["label"] for t in y["top"]], x["file"]
        assert [t["score"] for t in x["top"]] == pytest.approx([t["score"] for t in y["top"]],
                                                               abs=1e-5)
        ex, ey = x.get("events") or [], y.get("events") or []
        assert [(e["label"], e["start_s"], e["end_s"]) for e in ex] == [
            (e["label"], e["start_s"], e["end_s"]) for e in ey], x["file"]


def test_uninterrupted_run_classifies_good_and_lists_bad(uninterrupted):
    good = [r for r in uninterrupted if "a good" in r["file"]]
    assert len(good) == GOOD and all(r["error"] is None for r in good)
    for i, r in enumerate(sorted(good, key=lambda r: int(r["file"].rsplit(" ", 1)[1][:-4]))):
        beeps = [e for e in r["events"] if e["label"] == "beep"]
        assert len(beeps) == 1 and abs(beeps[0]["start_s"] - (5.0 + 3 * i)) <= 0.51
    bad = {os.path.basename(r["file"]): r["error"] for r in uninterrupted if "a good" not in
           r["file"]}
    reasons = [v for v in BAD_CASES.values() if v != "valid"]
    errors = [e for e in bad.values() if e]
    assert len(errors) == len(reasons) - 2  # "missing" and the folder are not files in it
    assert all(any(reason in e for reason in reasons) for e in errors)


def test_killed_run_resumes_to_the_same_table(corpus, model, env, tmp_path, uninterrupted):
    out = tmp_path / "resumed.json"
    journal = tmp_path / "resumed.json.journal.jsonl"
    proc = subprocess.Popen(_classify(model, corpus, out), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and journal.read_text().count("\n") >= 3:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait(60)
    done = journal.read_text().count("\n")
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert 3 <= done < len(uninterrupted) and not out.exists()
    r = subprocess.run(_classify(model, corpus, out, "--resume"), env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2, r.stderr
    _same_table(json.loads(out.read_text()), uninterrupted)
    lines = journal.read_text().splitlines()
    assert len(lines) == len(uninterrupted)  # nothing done twice
    assert len({json.loads(line)["file"] for line in lines}) == len(uninterrupted)


@pytest.fixture
def classifier(model):
    from ast_core.run.classifier import Classifier

    return Classifier.load(model)


def test_batch_dialog_preflight_cancel_resume_export(qtbot, classifier, corpus, uninterrupted,
                                                    tmp_path):
    dialog = BatchDialog(classifier, str(corpus))
    qtbot.addWidget(dialog)
    dialog.recursive.setChecked(True)  # starts the pre-flight
    dialog.events.setChecked(True)
    qtbot.waitUntil(lambda: dialog.preflight is not None, timeout=WAIT_MS)
    pre = dialog.preflight
    assert pre.files == [r["file"] for r in uninterrupted]
    problems = {os.path.basename(p): reason for p, reason in pre.problems}
    assert pre.unreadable == sum(1 for r in uninterrupted if r["error"])
    for r in uninterrupted:
        if r["error"]:
            assert r["error"].endswith(problems[os.path.basename(r["file"])])
    assert "very short" in problems["one sample.wav"]
    assert dialog.problems.rowCount() == len(pre.problems)
    assert dialog.start_button.isEnabled() and not dialog.resume_button.isEnabled()

    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.state is None or len(dialog.state.results) >= 2,
                    timeout=WAIT_MS)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT_MS)
    partial = len(dialog.results)
    assert 2 <= partial < len(pre.files), "the run ended before it could be cancelled"
    assert dialog.summary.text().startswith("Cancelled")
    assert dialog.resume_button.isEnabled() and "done" in dialog.resume_button.text()

    dialog.resume_button.click()
    qtbot.waitUntil(lambda: not dialog.running and len(dialog.results) == len(pre.files),
                    timeout=WAIT_MS)
    assert dialog.table.rowCount() == len(pre.files)
    _same_table(dialog.results, uninterrupted)
    assert "files/s" in dialog.speed.text()

    failures = []
    dialog.failed.connect(failures.append)
    dialog.export_table(str(tmp_path / "table.csv"))
    dialog.export_table(str(tmp_path / "table.json"))
    dialog.export_events(str(tmp_path / "raven"), "raven")
    qtbot.waitUntil(lambda: (tmp_path / "table.csv").exists() and (tmp_path / "table.json")
                    .exists() and len(list((tmp_path / "raven").glob("*.txt"))) == GOOD + 2
                    or bool(failures), timeout=WAIT_MS)
    assert failures == []
    classified = [r for r in uninterrupted if not r["error"]]  # the 8 takes + 2 valid odd ones
    assert len(classified) == GOOD + 2  # one event file each
    _same_table(json.loads((tmp_path / "table.json").read_text()), uninterrupted)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "table.csv").read_text())))
    assert {r["file"] for r in rows} == {r["file"] for r in uninterrupted}
    table = (tmp_path / "raven" / "take 0.Table.1.selections.txt").read_text()
    raven = list(csv.DictReader(io.StringIO(table), delimiter="\t"))
    assert list(raven[0]) == RAVEN_COLUMNS
    beeps = [r for r in raven if r["Label"] == "beep"]
    assert len(beeps) == 1 and abs(float(beeps[0]["Begin Time (s)"]) - 5.0) <= 0.51
