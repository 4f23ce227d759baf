"""`ast-studio listen` (app.cli.listen): in a subprocess on the real-time virtual microphone,
and in this process on ALSA's file microphone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from app.cli import run
from ast_core.audio import SAMPLE_RATE
from ast_core.run.loading import load_classifier
from tests.support import live_fixtures
from tests.support.live_fixtures import ScenePlayer, scene

virtual_mic = live_fixtures.virtual_mic
ROOT = Path(__file__).resolve().parents[2]


def listen(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "app", "listen", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_listen_jsonl_follows_the_beep(virtual_mic, beep_model, tmp_path):
    env = {**virtual_mic.env, "AST_STUDIO_DATA_DIR": os.environ["AST_STUDIO_DATA_DIR"]}
    proc = listen(env, "--device", "pulse", "--model", str(beep_model), "--window", "1",
                  "--hop", "0.25", "--top-k", "1", "--threshold", "0.5", "--events", "beep",
                  "--save-events", str(tmp_path / "snips"), "--format", "jsonl",
                  "--seconds", "12")
    try:
        hello = proc.stderr.readline()
        assert hello.startswith("listening"), hello + proc.stderr.read()
        time.sleep(1.0)  # PulseAudio's capture start-up
        samples, marks = scene([(2.5, False), (2.5, True), (2.5, False)])
        player = ScenePlayer(samples, marks).start()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        player.stop()
    assert proc.returncode == 0, err
    lines = [json.loads(x) for x in out.splitlines()]
    summary = lines[-1]["summary"]
    rows = lines[:-1]
    top = [r["labels"][0] for r in rows]
    changes = [x for i, x in enumerate(top) if i == 0 or top[i - 1] != x]
    assert changes == ["background", "beep", "background"], changes
    assert sum(r["changed"] for r in rows) == 3
    assert {"time", "labels", "scores", "latency_ms", "dropped"} <= rows[0].keys()
    events = [e for r in rows for e in r["events"]]
    assert [e["label"] for e in events] == ["beep"] and Path(events[0]["snippet"]).exists()
    assert summary["overruns"] == 0 and summary["dropped"] <= 2
    assert summary["analyses"] == len(rows) >= 35
    assert 0 < summary["latency_ms_p50"] <= summary["latency_ms_p95"]


def test_listen_text_lists_devices_and_reports_errors(virtual_mic, tmp_path):
    env = {**virtual_mic.env, "AST_STUDIO_DATA_DIR": os.environ["AST_STUDIO_DATA_DIR"]}
    devices = subprocess.run([sys.executable, "-m", "app", "listen", "--list-devices"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert devices.returncode == 0 and "pulse" in devices.stdout
    bad = subprocess.run([sys.executable, "-m", "app", "listen", "--model",
                          str(tmp_path / "no such model"), "--seconds", "1"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.startswith("ast-studio listen:"), bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize("precision, fit", [("fp32", True), ("bf16", False)])
def test_listen_loads_at_the_chosen_precision_and_window(alsa_file_mic, tiny_model, capsys,
                                                         precision, fit):
    alsa_file_mic(np.zeros(SAMPLE_RATE * 4, np.int16))
    argv = ["listen", "--model", str(tiny_model), "--precision", precision, "--compute-device",
            "cpu", "--threads", "1", "--window", "1", "--hop", "0.25", "--seconds", "1.5",
            "--format", "jsonl", *(["--fit-window"] if fit else [])]
    assert run(argv) == 0
    out, err = capsys.readouterr()
    lines = [json.loads(x) for x in out.splitlines()]
    summary = lines[-1]["summary"]
    assert summary["precision"] == precision
    assert summary["analyses"] == len(lines) - 1 >= 1
    model = load_classifier(tiny_model, "cpu", window_s=1.0 if fit else None)
    assert model.window_seconds < 1.0 if fit else model.window_seconds > 1.0
    assert f"model window {model.window_seconds:.2f} s" in err
