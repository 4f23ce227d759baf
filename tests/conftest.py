"""Shared fixtures: offscreen Qt, private user data and HF cache, tiny random models, clips.

Set before anything imports Qt or huggingface_hub (both read the environment once):
- `QT_QPA_PLATFORM=offscreen` (unless the caller chose a platform, e.g. xcb under xvfb);
- `HF_HUB_CACHE` -> an empty temporary folder and `HF_HUB_OFFLINE=1`: no test ever reads the
  developer's real hub cache or the network. `hf_cache_model` fills that folder per test.
Every test also gets its own `AST_STUDIO_DATA_DIR` (user models, settings, log) — see `user_data`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HF_CACHE = Path(tempfile.mkdtemp(prefix="ast-test-hf-cache-"))
atexit.register(shutil.rmtree, HF_CACHE, ignore_errors=True)
os.environ["HF_HUB_CACHE"] = str(HF_CACHE)
os.environ["HF_HUB_OFFLINE"] = "1"

import pytest  # noqa: E402

TINY_LABELS = ["Speech", "Dog", "Music", "Siren", "Silence"]


@pytest.fixture(autouse=True)
def user_data(tmp_path_factory, monkeypatch) -> Path:
    """A private user data folder (models, settings.ini, logs) for each test (not in tmp_path,
    so tests that check what a folder holds see only their own files)."""
    folder = tmp_path_factory.mktemp("user-data")
    monkeypatch.setenv("AST_STUDIO_DATA_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny model with a 1.28-s window (128 frames), 5 labels; shared by the session."""
    from tests.support.model_factory import save_tiny_folder

    return save_tiny_folder(tmp_path_factory.mktemp("tiny-model") / "tiny", labels=TINY_LABELS)


@pytest.fixture(scope="session")
def beep_model(tmp_path_factory) -> Path:
    """The one trained test model: finds 1-kHz beeps in noise (see tests/support/beep_model.py);
    trained once per session."""
    from tests.support.beep_model import train_beep_model

    return train_beep_model(tmp_path_factory.mktemp("beep-model") / "beep")


@pytest.fixture
def hf_cache_model(tiny_model):
    """Put a model into the (temporary) HF cache as `ORG/NAME` the way the hub client would.

    Usage: `path = hf_cache_model("acme/ast-tiny")`; removed again after the test.
    """
    made: list[Path] = []

    def make(repo_id: str, source: Path = tiny_model) -> Path:
        from tests.support.model_factory import hf_cache_entry

        snapshot = hf_cache_entry(HF_CACHE, repo_id, Path(source))
        made.append(snapshot.parent.parent)
        return snapshot

    yield make
    for repo in made:
        shutil.rmtree(repo, ignore_errors=True)


@pytest.fixture
def tone_wav(tmp_path) -> Path:
    """A 2-s 440 Hz mono tone at 16 kHz (longer than the tiny model's 1.28-s window)."""
    from tests.support.audio_corpus import write_tone

    return Path(write_tone(tmp_path / "tone 440.wav", 440.0, 2.0, 16_000, 1))


def _restart_portaudio() -> None:
    """Make PortAudio (and ALSA under it) read the environment again, if it was started."""
    import sys

    sd = sys.modules.get("sounddevice")
    if sd is not None:
        sd._terminate()
        sd._initialize()


@pytest.fixture
def alsa_file_mic(tmp_path):
    """A microphone that "hears" a given clip, bit-exact, through ALSA's `file` plugin.

    `alsa_file_mic(samples_int16)` writes the clip as raw 16-bit PCM, points ALSA_CONFIG_PATH
    at a config whose default capture device reads it (playback goes to `null`), and restarts
    PortAudio so the new config is read. Frames arrive as fast as they are read, not in real
    time; what follows the clip is not silence (ALSA repeats its buffer), so compare the first
    `len(samples)` frames. Restored after the test.
    """
    old = os.environ.get("ALSA_CONFIG_PATH")

    def make(samples) -> Path:
        import numpy as np

        raw = tmp_path / "mic.raw"
        np.asarray(samples, dtype="<i2").tofile(raw)
        conf = tmp_path / "asound.conf"
        conf.write_text(
            "</usr/share/alsa/alsa.conf>\n"
            f'pcm.filemic {{ type file slave.pcm "null" file "/dev/null" infile "{raw}" '
            'format "raw" }\n'
            'pcm.!default { type asym capture.pcm "plug:filemic" playback.pcm "null" }\n'
        )
        os.environ["ALSA_CONFIG_PATH"] = str(conf)
        _restart_portaudio()
        return raw

    yield make
    if old is None:
        os.environ.pop("ALSA_CONFIG_PATH", None)
    else:
        os.environ["ALSA_CONFIG_PATH"] = old
    _restart_portaudio()
