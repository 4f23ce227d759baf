"""A non-editable install (a built wheel, as `pip install .` makes) classifies with shipped labels.

The project is installed without dependencies into a fresh venv whose only other packages are
the dev venv's (reached through a `.pth` line, which adds the folder but, unlike a site dir,
runs none of its `.pth` files, so the dev venv's editable finder stays out). The test runs from a
folder outside the checkout, so nothing can come from the source tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import torch

from tests.support.audio_corpus import write_tone
from tests.support.model_factory import make_model, reference_state_dict, tiny_config

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _venv_with_wheel(venv: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(
        subprocess.run(
            [str(venv / "bin" / "python"), "-c",
             "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )
    (site / "dev-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    source = venv.parent / "source"  # the build writes build/ and *.egg-info beside its source
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "*.egg-info", "test-artifacts", "__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "-q", "--no-deps", "--no-build-isolation", str(source)],
        check=True, cwd=venv,
    )
    return venv / "bin" / "ast-studio"


def test_non_editable_install_classifies_with_audioset_labels(tmp_path):
    exe = _venv_with_wheel(tmp_path / "venv")
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "AST_STUDIO_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": ""}
    weights = work / "audioset_tiny.pth"  # a released-style weights file with 527 outputs
    model = make_model(tiny_config(num_labels=527, target_length=128))
    torch.save(reference_state_dict(model), weights)

    r = subprocess.run([str(exe), "import", str(weights), "--labels", "audioset", "--name", "tiny"],
                       cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    wav = write_tone(work / "tone.wav", seconds=1.0)
    probe = subprocess.run(
        [str(exe.parent / "python"), "-c", "import ast_core.store.labels as m; print(m.__file__)"],
        cwd=work, env=env, capture_output=True, text=True, check=True,
    )
    assert str(tmp_path / "venv") in probe.stdout  # the installed copy, not the checkout
    r = subprocess.run([str(exe), "classify", str(wav), "--model", "tiny", "--format", "json",
                        "--top-k", "527"], cwd=work, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    labels = {t["label"] for t in json.loads(r.stdout)[0]["top"]}
    assert len(labels) == 527 and {"Speech", "Dog", "Siren"} <= labels

