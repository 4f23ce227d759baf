"""Audio as the window holds it and what the shared views draw of it, as plain numpy data.

Used by the clip and long areas alike (and the views in `app.gui.widgets`): a decoded `Clip`,
its `Spectrogram` and waveform `Envelope`, and the `Attention` maps of one model window.
No Qt, no torch: the core is imported inside `decode`, which runs on a worker thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ast_core.audio import SAMPLE_RATE

LN_TO_DB = 10.0 / math.log(10.0)  # kaldi fbank is natural-log power; x * LN_TO_DB is dB


@dataclass
class Clip:
    """A sound the window shows: mono float32 samples at `SAMPLE_RATE`."""

    name: str
    samples: np.ndarray  # (samples,)
    path: str | None = None  # None for a recording not yet saved
    rate: int = SAMPLE_RATE

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


@dataclass
class Spectrogram:
    db: np.ndarray  # (frames, mels) log-mel power in dB
    frame_shift_s: float
    num_mels: int


@dataclass
class Envelope:
    """A drawable waveform: at most ~2 * max_points (time, value) pairs, min/max per bucket."""

    t: np.ndarray  # (points,) seconds
    y: np.ndarray  # (points,)
    peak: float


@dataclass
class Attention:
    """Prefix-token attention for one model window, on the patch grid and on spectrogram frames."""

    offset_s: float  # where the window starts in the clip
    frame_shift_s: float
    grid: dict[str, np.ndarray]  # "last layer" / "rollout" / "layer N" -> (f, t)
    frames: dict[str, np.ndarray]  # same keys -> (frames, mels), in units of uniform attention
    scores: np.ndarray  # (num_labels,) the window's own scores


def decode(path: str | Path) -> Clip:
    """Any file the core reads -> Clip (raises AudioError with a user-fit message)."""
    from ast_core.audio.decode import load_audio

    p = Path(path)
    return Clip(p.name, load_audio(p), str(p))
