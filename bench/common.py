"""What the bench sections share: timing, the machine, test signals, models and recordings.

Models built here carry random weights: their timings are real, their labels meaningless, and
every report that uses one says so ("timing only").
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from ast_core.audio import SAMPLE_RATE
from ast_core.audio.features import PRESETS, features
from ast_core.run.classifier import Classifier

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RECORDING_BLOCK_SECONDS = 60.0


def median_ms(
    fns: dict[str, Callable[[], object]], repeats: int, warmup: bool = True
) -> dict[str, float]:
    """Median ms of each of `fns` (after one warm-up call each), timed in turn round by round,
    so that the host's drift and bursts (a shared machine) hit them all alike."""
    for fn in fns.values() if warmup else ():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) * 1000)
    return {name: statistics.median(ts) for name, ts in times.items()}


def machine() -> dict:
    """CPU model, torch threads and version, CUDA device name (None without one)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
    }


def bench_signals(seconds: float = 10.0) -> np.ndarray:
    """Three deterministic clips `(3, samples)` at SAMPLE_RATE: noise, a tone with harmonics,
    a chirp."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    rng = np.random.default_rng(0)
    noise = 0.1 * rng.standard_normal(t.size)
    tone = sum(0.2 / k * np.sin(2 * np.pi * 220 * k * t) for k in range(1, 6))
    chirp = 0.3 * np.sin(2 * np.pi * (100 + 300 * t) * t)
    return np.stack([noise, tone, chirp]).astype(np.float32)


def random_model_folder(size: str, path: Path, stride: int = 10) -> Path:
    """A model folder of random `size` weights shaped like the AudioSet models (527 labels,
    10.24-s input, AudioSet features), for timing only (never offered to users)."""
    from ast_core.model.checkpoints import save_model
    from ast_core.model.transformer import AudioSpectrogramTransformer, ModelConfig

    fbank = PRESETS["audioset"]
    cfg = ModelConfig.for_size(
        size, target_length=fbank.target_length, fstride=stride, tstride=stride
    )
    torch.manual_seed(0)
    model = AudioSpectrogramTransformer(cfg)
    labels = [f"class {i}" for i in range(cfg.num_labels)]
    return save_model(path, model, labels, fbank, {"note": "random weights: timing only"})


def model_folder(model_source: str | None, size: str, tmp: Path, stride: int) -> tuple[Path, str]:
    """The folder of `model_source`, or of random weights saved under `tmp`; and its name for
    the report."""
    from ast_core.store.model_store import resolve

    if model_source:
        return resolve(model_source), str(model_source)
    name = f"random {size} stride {stride} weights (timing only)"
    return random_model_folder(size, tmp, stride), name


def model_input(clf: Classifier, waves: np.ndarray) -> torch.Tensor:
    """The model input of `clf` for clips `(batch, samples) -> (batch, frames, mels)`, on its
    device and in its dtype: what the model alone is timed on."""
    return features(torch.from_numpy(waves), clf.fbank).to(clf.device, clf.dtype)


def agreement(reference: Classifier, other: Classifier, wavs: np.ndarray) -> dict:
    """How far `other`'s scores are from `reference`'s on the clips `(clips, samples)`."""
    a, b = reference.score_batch(wavs), other.score_batch(wavs)
    return {
        "clips": len(wavs),
        "max_score_diff": float(np.abs(a - b).max()),
        "top5_identical": bool((np.argsort(-a, 1)[:, :5] == np.argsort(-b, 1)[:, :5]).all()),
    }


def write_long_recording(
    path: str | os.PathLike,
    seconds: float,
    beeps: Sequence[tuple[float, float]] = (),
    noise_level: float = 0.05,
    beep_level: float = 0.3,
    beep_hz: float = 1000.0,
    seed: int = 0,
) -> Path:
    """White noise with 1-kHz beeps at `(start_s, length_s)`, written block by block as a
    16-bit mono WAV at SAMPLE_RATE. Memory stays at one block (a minute) whatever `seconds` is.
    """
    import soundfile as sf

    path = Path(path)
    rng = np.random.default_rng(seed)
    total = round(seconds * SAMPLE_RATE)
    block = round(RECORDING_BLOCK_SECONDS * SAMPLE_RATE)
    with sf.SoundFile(path, "w", SAMPLE_RATE, 1, subtype="PCM_16", format="WAV") as f:
        for a in range(0, total, block):
            b = min(total, a + block)
            x = (noise_level * rng.standard_normal(b - a)).astype(np.float32)
            for start_s, length_s in beeps:
                s, e = round(start_s * SAMPLE_RATE), round((start_s + length_s) * SAMPLE_RATE)
                lo, hi = max(s, a), min(e, b)
                if lo < hi:
                    t = np.arange(lo - s, hi - s) / SAMPLE_RATE
                    ramp = np.minimum(1.0, np.minimum(t, length_s - t) / 0.01)
                    x[lo - a : hi - a] += beep_level * ramp * np.sin(2 * np.pi * beep_hz * t)
            f.write(np.clip(x, -1.0, 1.0))
    return path


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment for a Python child that imports the project's packages
    (`app`, `bench`) whatever its working folder, plus `extra`."""
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p
    )
    return env
