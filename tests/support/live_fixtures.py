"""A real-time virtual microphone for live tests: a private PulseAudio daemon with a null sink.

`VirtualMic` starts `pulseaudio` with its own XDG_RUNTIME_DIR (so it never touches another
daemon), makes the null sink's monitor the default source, and points this process at it; the
ALSA device `pulse` then captures whatever `play()` sends to the sink, in real time. The daemon
is stopped by its PID. Fixtures: `virtual_mic` (per test), `beep_model` (per session).
Helpers: `scene` (noise / beep+noise parts), `ScenePlayer`, `chirp_clip` (16-bit samples for
the bit-exact ALSA file microphone of tests/conftest.py) and `tone_onset`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from ast_core.audio import SAMPLE_RATE
from tests.support.beep_model import beep, noise

PULSE_HELP = ("PulseAudio could not start a virtual microphone ({why}). Live tests need Debian's "
              "pulseaudio, pulseaudio-utils and libasound2-plugins (see TESTING.md).")


class VirtualMic:
    def __init__(self) -> None:
        for tool in ("pulseaudio", "pactl", "paplay"):
            if shutil.which(tool) is None:
                raise RuntimeError(PULSE_HELP.format(why=f"{tool} not found"))
        self.runtime = Path(tempfile.mkdtemp(prefix="ast-pulse-"))
        self.env = {**os.environ, "XDG_RUNTIME_DIR": str(self.runtime),
                    "PULSE_RUNTIME_PATH": str(self.runtime / "pulse")}
        self.env.pop("PULSE_SERVER", None)
        self._saved = {k: os.environ.get(k) for k in ("XDG_RUNTIME_DIR", "PULSE_RUNTIME_PATH",
                                                       "ALSA_CONFIG_PATH", "PULSE_SERVER")}
        self.pid: int | None = None
        self._players: list[subprocess.Popen] = []

    def start(self) -> VirtualMic:
        cmd = ["pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "-n",
               "--load=module-native-protocol-unix",
               f"--load=module-null-sink sink_name=virtmic rate={SAMPLE_RATE} channels=1"]
        run = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=30)
        pid_file = self.runtime / "pulse" / "pid"
        if run.returncode != 0 or not pid_file.exists():
            raise RuntimeError(PULSE_HELP.format(why=run.stderr.strip() or f"rc {run.returncode}"))
        self.pid = int(pid_file.read_text().split()[0])
        self.pactl("set-default-source", "virtmic.monitor")
        self.pactl("set-default-sink", "virtmic")
        for k in ("XDG_RUNTIME_DIR", "PULSE_RUNTIME_PATH"):
            os.environ[k] = self.env[k]
        os.environ.pop("ALSA_CONFIG_PATH", None)
        os.environ.pop("PULSE_SERVER", None)
        _restart_portaudio()
        return self

    def pactl(self, *args: str) -> str:
        run = subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True,
                             timeout=30)
        if run.returncode != 0:
            raise RuntimeError(PULSE_HELP.format(why=f"pactl {args}: {run.stderr.strip()}"))
        return run.stdout

    def play(self, wav: Path) -> tuple[subprocess.Popen, float]:
        """Start playing `wav` into the virtual mic; returns the process and the monotonic time
        its playback began (the sink's first frame; measured as the player's start)."""
        proc = subprocess.Popen(["paplay", "--latency-msec=20", "-d", "virtmic", str(wav)],
                                env=self.env)
        self._players.append(proc)
        return proc, time.monotonic()

    def stop(self) -> None:
        for p in self._players:
            if p.poll() is None:
                p.kill()
            p.wait(10)
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGTERM)
                for _ in range(100):
                    os.kill(self.pid, 0)
                    time.sleep(0.05)
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.pid = None
        for k, v in self._saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        _restart_portaudio()
        shutil.rmtree(self.runtime, ignore_errors=True)


def _restart_portaudio() -> None:
    sd = sys.modules.get("sounddevice")
    if sd is not None:
        sd._terminate()
        sd._initialize()


def write_scene(path: Path, parts: list[tuple[float, bool]], seed: int = 0) -> Path:
    """A 16-kHz WAV of (seconds, with_beep) parts over noise: the beep model's known answer."""
    from ast_core.audio.decode import save_wav

    rng = np.random.default_rng(seed)
    chunks = []
    for seconds, with_beep in parts:
        n = round(seconds * SAMPLE_RATE)
        chunks.append(noise(rng, n) + (beep(n) if with_beep else 0))
    save_wav(path, np.concatenate(chunks), SAMPLE_RATE)
    return path


@pytest.fixture
def virtual_mic():
    mic = VirtualMic()
    try:
        mic.start()
    except Exception:
        mic.stop()
        raise
    yield mic
    mic.stop()


class ScenePlayer:
    """Plays samples into the virtual mic from this process through a low-latency PortAudio
    output stream (pulled by PulseAudio, so no backlog can build up), and notes the monotonic
    time each marked sample index was handed to the sink ("the outside clock")."""

    def __init__(self, samples: np.ndarray, marks: dict[str, int] | None = None,
                 loop: bool = False):
        self.samples = np.asarray(samples, np.float32)
        self.marks = dict(marks or {})
        self.played: dict[str, float] = {}
        self.loop = loop
        self.pos = 0
        self._stream = None

    def start(self) -> ScenePlayer:
        import sounddevice as sd

        self._stream = sd.OutputStream(device="pulse", samplerate=SAMPLE_RATE, channels=1,
                                       dtype="float32", latency="low", callback=self._callback)
        self._stream.start()
        return self

    @property
    def done(self) -> bool:
        return not self.loop and self.pos >= len(self.samples)

    def _callback(self, out, frames, t, status) -> None:
        now = time.monotonic()
        p, n = self.pos, len(self.samples)
        idx = np.arange(p, p + frames)
        out[:, 0] = self.samples[idx % n] if self.loop else np.where(
            idx < n, self.samples[np.minimum(idx, n - 1)], 0.0)
        dac = now + max(0.0, t.outputBufferDacTime - t.currentTime)
        for name, i in self.marks.items():
            if name not in self.played and p <= i < p + frames:
                self.played[name] = dac + (i - p) / SAMPLE_RATE
        self.pos += frames

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None


def scene(parts: list[tuple[float, bool]], seed: int = 0) -> tuple[np.ndarray, dict[str, int]]:
    """Samples of (seconds, with_beep) parts over noise, and marks: "on1", "off1", ..."""
    rng = np.random.default_rng(seed)
    chunks, marks, at, k = [], {}, 0, 0
    for seconds, with_beep in parts:
        n = round(seconds * SAMPLE_RATE)
        chunks.append(noise(rng, n) + (beep(n) if with_beep else 0))
        if with_beep:
            k += 1
            marks[f"on{k}"], marks[f"off{k}"] = at, at + n
        at += n
    return np.concatenate(chunks).astype(np.float32), marks


def chirp_clip(n: int = 24_000, seed: int = 7) -> np.ndarray:
    """int16 [n]: noise with a chirp, nothing periodic, so a shifted or repeated capture of it
    cannot pass for the original."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SAMPLE_RATE
    x = 0.3 * np.sin(2 * np.pi * (200 + 900 * t) * t) + 0.05 * rng.standard_normal(n)
    return np.round(np.clip(x, -1, 1) * 32767).astype(np.int16)


def tone_onset(x: np.ndarray, rate: int, freq: float = 1000.0, level: float = 0.05) -> int:
    """First sample of the first 10-ms frame of `x` [n] whose `freq` amplitude exceeds `level`
    (0 when none does)."""
    f = rate // 100
    n = len(x) // f
    ref = np.exp(2j * np.pi * freq * np.arange(f) / rate)
    amp = 2 * np.abs((x[: n * f].reshape(n, f) * ref).sum(1)) / f
    return int(np.argmax(amp > level)) * f


def refuse_model_rate(monkeypatch) -> None:
    """Make every input device refuse 16 kHz, as many USB microphones do (PortAudio's error)."""
    import sounddevice as sd

    from ast_core.audio import SAMPLE_RATE

    real = sd.InputStream

    def no_16k(*args, samplerate=None, **kwargs):
        if samplerate == SAMPLE_RATE:
            raise sd.PortAudioError("Invalid sample rate [PaErrorCode -9997]")
        return real(*args, samplerate=samplerate, **kwargs)

    monkeypatch.setattr(sd, "InputStream", no_16k)
