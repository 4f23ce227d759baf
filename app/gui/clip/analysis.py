"""What the workers compute for the window, as plain numpy results (no Qt, no tensors out).

Every function here runs on a worker thread. The core (and torch) is imported inside the
functions, so importing this module stays cheap and the window can appear first.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

RATE = 16_000
LN_TO_DB = 10.0 / math.log(10.0)  # kaldi fbank is natural-log power; x * LN_TO_DB is dB


@dataclass
class Clip:
    """A sound the window shows: mono float32 samples at 16 kHz."""

    name: str
    samples: np.ndarray
    path: str | None = None  # None for a recording not yet saved
    rate: int = RATE

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

    t: np.ndarray
    y: np.ndarray
    peak: float


@dataclass
class Attention:
    """Prefix-token attention for one model window, on the patch grid and on spectrogram frames."""

    offset_s: float  # where the window starts in the clip
    frame_shift_s: float
    grid: dict[str, np.ndarray]  # "last layer" / "rollout" / "layer N" -> (f, t)
    frames: dict[str, np.ndarray]  # same keys -> (frames, mels), in units of uniform attention
    scores: np.ndarray  # (num_labels,) the window's own scores


@dataclass
class WindowTable:
    starts: np.ndarray  # (windows,) seconds
    ends: np.ndarray  # (windows,) seconds
    scores: np.ndarray  # (windows, num_labels)


@dataclass
class Analysis:
    scores: np.ndarray  # (num_labels,) clip scores (the window's, or pooled over windows)
    labels: list[str]
    label_mode: str  # "multi" (sigmoid) or "single" (softmax)
    pooling: str  # "" for one window, else how window scores were pooled
    attention: Attention
    windows: WindowTable | None = None  # set when the clip is longer than the model window
    extra: dict[str, Any] = field(default_factory=dict)

    def top(self, k: int, threshold: float) -> list[tuple[str, float]]:
        order = np.argsort(-self.scores, kind="stable")[:k]
        s = self.scores
        return [(self.labels[i], float(s[i])) for i in order if s[i] >= threshold]


def decode(path: str | Path) -> Clip:
    """Any file the core reads -> Clip (raises AudioError with a user-fit message)."""
    from ast_core.audio.decode import load_audio

    p = Path(path)
    return Clip(p.name, load_audio(p), str(p))


def load_classifier(source: str, device: str | None = None, precision: str = "auto") -> Any:
    """A `Classifier` for a model folder or hub id; the import of torch happens here.

    Files, long files and batches run on torch's default threads (one per core): on 2 cores a
    60-s file took 9.9 s against 14.0 s with one core left free, and the window stays
    responsive (tested). Live analysis leaves a core free while it runs
    (see `app.gui.live.live_view`).
    """
    from app.gui.import_scan import quick_pyside_scan
    from ast_core.accel.heavy_imports import heavy_imports

    with heavy_imports(), quick_pyside_scan():
        from ast_core.run.classifier import Classifier

    return Classifier.load(source, device or None, precision)


def find_default_model(preferred: str) -> str | None:
    """The model to load at start: the remembered one if it still resolves, else the store's."""
    from ast_core.errors import ModelError
    from ast_core.store.model_store import default_model, resolve

    if preferred:
        try:
            return str(resolve(preferred))
        except ModelError:
            pass
    found = default_model()
    return str(found) if found is not None else None


def envelope(clip: Clip, max_points: int = 20_000) -> Envelope:
    """Min/max of each bucket of samples, interleaved, so drawing never walks a million points."""
    x = clip.samples
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    bucket = max(1, -(-len(x) // max_points))
    if bucket < 4:
        return Envelope(np.arange(len(x)) / clip.rate, x, peak)
    n = -(-len(x) // bucket)
    padded = np.pad(x, (0, n * bucket - len(x)), mode="edge").reshape(n, bucket)
    y = np.stack([padded.min(axis=1), padded.max(axis=1)], axis=1).ravel()
    t = (np.repeat(np.arange(n) * bucket, 2) + np.tile([0, bucket // 2], n)) / clip.rate
    return Envelope(t, y, peak)


def display(clip: Clip, classifier: Any | None) -> tuple[Spectrogram, Envelope]:
    """Everything the views draw for a clip (computed off the GUI thread)."""
    return spectrogram(clip, classifier), envelope(clip)


def spectrogram(clip: Clip, classifier: Any | None) -> Spectrogram:
    """Log-mel in dB with the model's features (or the AudioSet defaults when no model)."""
    if classifier is not None:
        fb, cfg = classifier.spectrogram(clip.samples), classifier.fbank
    else:
        import torch

        from ast_core.audio.features import FbankConfig, compute_fbank

        cfg = FbankConfig()
        with torch.inference_mode():
            fb = compute_fbank(torch.from_numpy(clip.samples[None].copy()), cfg)[0].numpy()
    return Spectrogram(fb * LN_TO_DB, cfg.frame_shift_ms / 1000, cfg.num_mel_bins)


def attention_at(classifier: Any, clip: Clip, offset_s: float) -> Attention:
    """Attention maps of the model window starting at `offset_s` (mapped back to frames)."""
    import torch

    from ast_core.model.attention_map import grid_to_frames

    start = round(offset_s * clip.rate)
    win = round(classifier.window_seconds * clip.rate)
    pred = classifier.predict(clip.samples[start : start + win], attention_maps=True)
    grid = {"last layer": pred.attention_last, "rollout": pred.attention_rollout}
    for i, layer in enumerate(pred.layer_attention):
        grid[f"layer {i + 1}"] = layer
    cfg, fb = classifier.model.cfg, classifier.fbank
    frames = {}
    for key, g in grid.items():
        # x patches: 1.0 means "as much as if attention were spread evenly", so a flat map
        # (an untrained model) stays flat instead of being stretched into false highlights.
        ratio = torch.from_numpy(np.ascontiguousarray(g)) * g.size
        frames[key] = grid_to_frames(ratio, fb.target_length, fb.num_mel_bins, cfg.patch_size,
                                     cfg.fstride, cfg.tstride).numpy()
    return Attention(offset_s, fb.frame_shift_ms / 1000, grid, frames, pred.scores)


def classify(classifier: Any, clip: Clip, batch_size: int = 4) -> Iterator[float]:
    """Generator worker: yields progress in [0, 1], returns an `Analysis`.

    Clips longer than the model window are scored window by window (the model's window, 50 %
    hop; the last window reaches the end) and pooled: max for multi-label, mean for
    single-label. Nothing is cropped silently: the per-window table comes with the result.
    """
    window_s = classifier.window_seconds
    n = len(clip.samples)
    win = round(window_s * clip.rate)
    if n <= win:
        yield 0.0
        att = attention_at(classifier, clip, 0.0)
        yield 1.0
        return Analysis(att.scores, classifier.labels, classifier.label_mode, "", att)
    starts = classifier.window_starts(n, window_s, window_s / 2)
    rows = []
    for i in range(0, len(starts), batch_size):
        chunk = np.stack([_pad(clip.samples[s : s + win], win) for s in starts[i : i + batch_size]])
        rows.append(classifier.score_batch(chunk))
        yield min(0.9, (i + len(chunk)) / len(starts) * 0.9)
    table = WindowTable(starts / clip.rate, np.minimum(starts + win, n) / clip.rate,
                        np.concatenate(rows))
    multi = classifier.label_mode == "multi"
    pooled = table.scores.max(axis=0) if multi else table.scores.mean(axis=0)
    best = int(np.argmax(table.scores[:, int(np.argmax(pooled))]))
    att = attention_at(classifier, clip, float(table.starts[best]))
    yield 1.0
    pooling = f"{'max' if multi else 'mean'} over {len(starts)} windows"
    return Analysis(pooled, classifier.labels, classifier.label_mode, pooling, att, table)


def _pad(x: np.ndarray, n: int) -> np.ndarray:
    return np.pad(x.astype(np.float32, copy=False), (0, max(0, n - len(x))))[:n]


def to_model_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    """A recording at the device's rate -> 16 kHz (no-op when it already is)."""
    if rate == RATE:
        return samples
    import torch
    import torchaudio.functional as taf

    return taf.resample(torch.from_numpy(samples), rate, RATE).numpy()
