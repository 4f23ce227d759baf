"""The sliding-window rules, written once for the window, the long view, `classify` and batches.

- Window and hop: the model's window and half of it unless given (`window_and_hop`).
- Which windows: one every `hop` samples, plus one last window that ends at the end of the
  audio (`window_starts`, `iter_windows`, which stream blocks with memory bounded by one
  window + block).
- Audio of at most one window is one window of its real samples, never zero-padded here: the
  model input is then padded in the frame domain, exactly as `Classifier.predict` does.
- Clip scores from window scores (`WindowScores.pooled`): max over windows for multi-label
  models, mean for single-label ones (`POOLING`).

Numpy only (no torch), so the window can import `WindowScores` before the model code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

POOLING = {"multi": "max", "single": "mean"}  # label mode -> how window scores pool


@dataclass
class WindowScores:
    starts: np.ndarray  # (windows,) seconds
    ends: np.ndarray  # (windows,) seconds
    scores: np.ndarray  # (windows, num_labels)

    def pooled(self, label_mode: str) -> np.ndarray:
        """Clip scores, `(windows, num_labels) -> (num_labels,)`: max over the windows for
        multi-label ("multi") models, mean for single-label ("single") ones."""
        if POOLING[label_mode] == "max":
            return self.scores.max(axis=0)
        return self.scores.mean(axis=0)

    @classmethod
    def concat(cls, parts: Sequence[WindowScores]) -> WindowScores:
        """The windows of consecutive parts (batches) as one table; `parts` must not be empty."""
        return cls(np.concatenate([p.starts for p in parts]),
                   np.concatenate([p.ends for p in parts]),
                   np.concatenate([p.scores for p in parts]))


def window_and_hop(
    model_window_s: float, window_s: float | None = None, hop_s: float | None = None
) -> tuple[float, float]:
    """Window and hop in seconds: `window_s` or the model's window; `hop_s` or half the window."""
    window_s = window_s or model_window_s
    return window_s, hop_s or window_s / 2


def to_samples(window_s: float, hop_s: float, rate: int) -> tuple[int, int]:
    """Window and hop in samples at `rate` (the hop at least one sample)."""
    return round(window_s * rate), max(1, round(hop_s * rate))


def one_window(num_samples: int, win: int) -> bool:
    """Whether audio of `num_samples` is a single window (of its real samples, unpadded)."""
    return num_samples <= win


def window_starts(num_samples: int, win: int, hop: int) -> np.ndarray:
    """Start sample of each window over `num_samples` samples, `(windows,)` int64."""
    if one_window(num_samples, win):
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, num_samples - win + 1, hop, dtype=np.int64)
    if starts[-1] + win < num_samples:
        starts = np.append(starts, num_samples - win)
    return starts


def iter_windows(
    blocks: Iterable[np.ndarray], win: int, hop: int
) -> Iterator[tuple[int, np.ndarray]]:
    """`(start_sample, window)` pairs over a stream of 1-D float32 blocks, the starts those of
    `window_starts` for the whole stream. Each window has `win` samples, except for audio of
    at most one window: that is one window of all its samples (`(samples,)`, not padded)."""
    buf = np.zeros(0, dtype=np.float32)
    offset = 0  # sample index of buf[0]
    next_start = 0
    last_end = 0
    for block in blocks:
        buf = np.concatenate([buf, np.asarray(block, dtype=np.float32)])
        while next_start + win <= offset + len(buf):
            i = next_start - offset
            yield next_start, buf[i : i + win].copy()
            last_end = next_start + win
            next_start += hop
        # keep what later windows need: from the next start, or the last `win` samples
        keep_from = max(offset, min(next_start, offset + len(buf) - win))
        buf, offset = buf[keep_from - offset :], keep_from
    total = offset + len(buf)
    if one_window(total, win) and last_end == 0:
        yield 0, buf.copy()
    elif last_end < total:
        yield total - win, buf[len(buf) - win :].copy()
