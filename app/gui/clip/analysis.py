"""What the workers compute for the window, as plain numpy results (no Qt, no tensors out).

Every function here runs on a worker thread. The core (and torch) is imported inside the
functions, so importing this module stays cheap and the window can appear first. Scores come
from the core's one sliding-window scorer (`Classifier.iter_window_scores`, rules in
`ast_core.run.windows`), the same as `ast-studio classify` and the long view use.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.gui.widgets.audio_data import LN_TO_DB, Attention, Clip, Envelope, Spectrogram
from ast_core.run.windows import POOLING, WindowScores


@dataclass
class ClipAnalysis:
    """The result of classifying one clip: its scores, and how they were found."""

    scores: np.ndarray  # (num_labels,) clip scores (the window's, or pooled over windows)
    labels: list[str]
    label_mode: str  # "multi" (sigmoid) or "single" (softmax)
    pooling: str  # "" for one window, else how window scores were pooled
    attention: Attention
    windows: WindowScores | None = None  # set when the clip is longer than one window

    def top(self, k: int, threshold: float) -> list[tuple[str, float]]:
        order = np.argsort(-self.scores, kind="stable")[:k]
        s = self.scores
        return [(self.labels[i], float(s[i])) for i in order if s[i] >= threshold]


def load_classifier(source: str, device: str | None = None, precision: str = "auto") -> Any:
    """`ast_core.run.loading.load_classifier` (the first import of torch happens there), with
    PySide6's scan of the modules it imports kept cheap (`quick_pyside_scan`)."""
    from app.gui.import_scan import quick_pyside_scan
    from ast_core.run.loading import load_classifier as load

    with quick_pyside_scan():
        return load(source, device, precision)


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


def classify(classifier: Any, clip: Clip) -> Iterator[float]:
    """Generator worker: yields progress in [0, 1], returns a `ClipAnalysis`.

    Window scores as the core computes them for `ast-studio classify` (the model's window,
    half-window hop, the last window reaching the end; a clip of at most one window is scored
    as `Classifier.predict` scores it), pooled by the core's rule: max for multi-label, mean
    for single-label. Nothing is cropped silently: the per-window table comes with the result.
    The attention maps are those of the window where the top label scores highest.
    """
    yield 0.0
    parts = []
    for part in classifier.iter_window_scores([clip.samples]):
        parts.append(part)
        yield 0.9 * min(1.0, float(part.ends[-1]) / max(clip.duration, 1e-9))
    ws = WindowScores.concat(parts)
    pooled = ws.pooled(classifier.label_mode)
    best = int(np.argmax(ws.scores[:, int(np.argmax(pooled))]))
    att = attention_at(classifier, clip, float(ws.starts[best]))
    yield 1.0
    if len(ws.starts) == 1:
        return ClipAnalysis(pooled, classifier.labels, classifier.label_mode, "", att)
    pooling = f"{POOLING[classifier.label_mode]} over {len(ws.starts)} windows"
    return ClipAnalysis(pooled, classifier.labels, classifier.label_mode, pooling, att, ws)
