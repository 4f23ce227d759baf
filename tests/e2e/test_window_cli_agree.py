"""The main window's scores for a file equal `ast-studio classify --format json`'s for the same
file, model and window/hop: a clip shorter than the model's window and one several windows
long, per-window scores and the clip's scores, for a multi-label and a single-label model.

The command runs as users run it, in a subprocess (`python -m app` is the `ast-studio` console
script's entry point); the window is driven as a user drives it (open the file, wait for the
labels), with the same device and precision as the command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ast_core.audio import SAMPLE_RATE
from tests.conftest import TINY_LABELS
from tests.support.gui_helpers import make_window, wait_classified
from tests.support.model_factory import save_tiny_folder

TOL = 1e-5


def _write(path: Path, seconds: float, seed: int) -> str:
    """A tone with noise and a few clicks, so that windows score differently."""
    rng = np.random.default_rng(seed)
    n = round(seconds * SAMPLE_RATE)
    x = 0.2 * np.sin(2 * np.pi * 523.0 * np.arange(n) / SAMPLE_RATE)
    x += 0.05 * rng.standard_normal(n)
    x[rng.integers(0, n, 5)] = 0.9
    sf.write(path, x.astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
    return str(path)


@pytest.fixture(scope="module", params=["multi", "single"])
def model(request, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp(f"model-{request.param}") / "tiny"
    return save_tiny_folder(folder, TINY_LABELS, label_mode=request.param)  # a 1.28-s window


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("agree")
    return {"short": _write(folder / "short.wav", 0.6, seed=1),  # under one window
            "long": _write(folder / "long.wav", 5.0, seed=2)}  # 7 windows of 1.28 s


def _classify(model: Path, files: list[str], *options: str) -> list[dict]:
    """`ast-studio classify FILES --model MODEL --format json OPTIONS`, on the CPU in fp32."""
    cmd = [sys.executable, "-m", "app", "classify", *files, "--model", str(model),
           "--format", "json", "--top-k", "5", "--device", "cpu", "--precision", "fp32",
           *options]
    r = subprocess.run(cmd, env=dict(os.environ), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _vector(top: list[dict], labels: list[str]) -> np.ndarray:
    """A result's `top` list (every label) as scores in label order, `(num_labels,)`."""
    assert len(top) == len(labels)
    out = np.zeros(len(labels))
    for t in top:
        out[labels.index(t["label"])] = t["score"]
    return out


def _window_analysis(qtbot, window, path: str):
    window.open_files([path])
    qtbot.waitUntil(lambda: window.clip is not None and window.clip.path == path, timeout=60_000)
    wait_classified(qtbot, window)
    return window.analysis


def test_window_and_command_give_the_same_scores(qtbot, model, clips):
    from app.gui.settings import Settings

    settings = Settings()  # the window's preferences file (private to this test)
    settings.set("compute_device", "cpu")
    settings.set("precision", "fp32")
    window = make_window(qtbot, model)
    assert window.classifier.precision == "fp32" and window.classifier.device.type == "cpu"
    labels = list(window.classifier.labels)
    win_s = window.classifier.window_seconds
    files = [clips["short"], clips["long"]]
    plain = _classify(model, files)
    windowed = _classify(model, files, "--window", repr(win_s), "--hop", repr(win_s / 2))

    short = _window_analysis(qtbot, window, clips["short"])
    assert short.windows is None and short.pooling == ""  # one window: the clip itself
    np.testing.assert_allclose(short.scores, _vector(plain[0]["top"], labels), atol=TOL)
    [one] = windowed[0]["windows"]
    assert one["start_s"] == 0.0 and one["end_s"] == pytest.approx(0.6)
    np.testing.assert_allclose(short.scores, _vector(one["scores"], labels), atol=TOL)

    long = _window_analysis(qtbot, window, clips["long"])
    ws = long.windows
    cli_windows = windowed[1]["windows"]
    assert len(cli_windows) == len(ws.starts) == 7
    np.testing.assert_allclose(ws.starts, [w["start_s"] for w in cli_windows], atol=1e-9)
    np.testing.assert_allclose(ws.ends, [w["end_s"] for w in cli_windows], atol=1e-9)
    assert ws.ends[-1] == pytest.approx(5.0)
    for row, w in zip(ws.scores, cli_windows, strict=True):
        np.testing.assert_allclose(row, _vector(w["scores"], labels), atol=TOL)
    for result in (plain[1], windowed[1]):
        np.testing.assert_allclose(long.scores, _vector(result["top"], labels), atol=TOL)
    pooled = ws.scores.max(axis=0) if long.label_mode == "multi" else ws.scores.mean(axis=0)
    np.testing.assert_allclose(long.scores, pooled, atol=1e-7)
