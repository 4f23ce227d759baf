"""The whole app in a child process on a virtual X display (xvfb-run): start-up, the main
states, screenshots under test-artifacts/gui/ (look at them), and the numbers that matter."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import TINY_LABELS
from tests.support import gui_helpers
from tests.support.audio_corpus import speak
from tests.support.model_factory import save_tiny_folder

ARTIFACTS = gui_helpers.ARTIFACTS / "gui"  # gitignored, never in the source tree
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs xvfb-run")


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("app-clips")
    speech = speak(folder / "speech.wav", "Audio spectrogram transformer. Hello world.")
    x, rate = sf.read(speech, dtype="float32")
    t = np.arange(4 * rate) / rate
    chirp = 0.3 * np.sin(2 * np.pi * (300 + 500 * t) * t).astype(np.float32)
    long_clip = folder / "speech chirp speech.wav"
    sf.write(long_clip, np.concatenate([x, chirp, x]), rate)
    return speech, long_clip


def _run_app(out: Path, args: list[str], data_dir: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = dict(os.environ, AST_STUDIO_DATA_DIR=str(data_dir), QT_QPA_PLATFORM="xcb")
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1440x900x24",
           sys.executable, "-m", "tests.support.gui_driver", str(out), *map(str, args)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((out / "result.json").read_text())


def test_app_with_a_model(tmp_path, clips):
    model = save_tiny_folder(tmp_path / "sharp-tiny", TINY_LABELS, 256, sharp_attention=True)
    result = _run_app(ARTIFACTS / "with-model", [*clips, model], tmp_path / "data")
    print(f"\nwindow visible after {result['window_visible_s']:.2f} s, "
          f"model ready after {result['model_ready_s']:.2f} s")
    assert "timeout" not in result
    assert not result["torch_loaded_at_show"]  # the window came before torch
    assert result["model_label_at_show"] in ("loading model…", "looking for a model…")
    assert result["model_state"] == "ready"
    assert len(result["top"]) == 5
    assert result["windows"] == 9  # 11.7 s in 2.56-s windows with 50 % hop
    for name in ("01-startup", "02-classified", "04-long-clip-timeline", "05-rollout-magma",
                 "06-model-picker", "07-record-dialog"):
        assert (ARTIFACTS / "with-model" / f"{name}.png").stat().st_size > 5000


def test_app_without_a_model(tmp_path, clips):
    result = _run_app(ARTIFACTS / "no-model", [clips[0]], tmp_path / "data")
    assert "timeout" not in result
    assert result["model_state"] == "none"
    for name in ("01-startup", "02-no-model", "03-no-model-with-clip", "06-model-picker"):
        assert (ARTIFACTS / "no-model" / f"{name}.png").stat().st_size > 5000
