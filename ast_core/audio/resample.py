"""The one resampler: files, recordings and the microphone all reach `SAMPLE_RATE` through it.

`torchaudio.functional.resample` (its default sinc kernel) on the gcd-reduced pair of rates.
`ast_core.audio.decode` builds its block-by-block and seek-and-read variants on the same two
functions, so a recording at a device's rate gives the same samples as a file at that rate.
"""

from __future__ import annotations

import math

import numpy as np

from ast_core.audio import SAMPLE_RATE

MAX_REDUCED_RATE = 2000  # torchaudio's sinc kernel has (reduced up) x (reduced down) taps


def reduced_rates(orig: int, target: int) -> tuple[int, int]:
    """The gcd-reduced (orig, target) pair used for resampling.

    Odd rates (e.g. 44101 Hz) reduce to huge pairs whose kernel would need gigabytes; those
    are resampled as if from the nearest multiple of 100 Hz (a speed error below 0.01 %).
    """
    g = math.gcd(orig, target)
    if orig // g > MAX_REDUCED_RATE:
        return reduced_rates(max(100, round(orig / 100) * 100), target)
    return orig // g, target // g


def resample(x: np.ndarray, orig_rate: int, target_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float32 [n] at `orig_rate` -> float32 [ceil(n * target / orig)] at `target_rate`.

    Returns `x` itself when the rates are equal. torch is imported here, so callers (the GUI,
    the live analyzer) pay for it only when a resample is needed, and then in their worker.
    """
    down, up = reduced_rates(int(orig_rate), int(target_rate))
    if down == up:
        return x
    import torch
    import torchaudio.functional as taf

    wave = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    return taf.resample(wave, down, up).numpy()
