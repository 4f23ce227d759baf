"""Sliding windows over audio that arrives in blocks, with memory bounded by one window + block.

The windows are the same as `window_starts` gives for the whole signal: every `hop` samples,
plus one last window that ends at the end of the audio; audio shorter than one window gives one
zero-padded window at 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np


def window_starts(num_samples: int, win: int, hop: int) -> np.ndarray:
    """Start sample of each window over `num_samples` samples."""
    if num_samples <= win:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, num_samples - win + 1, hop, dtype=np.int64)
    if starts[-1] + win < num_samples:
        starts = np.append(starts, num_samples - win)
    return starts


def iter_windows(
    blocks: Iterable[np.ndarray], win: int, hop: int
) -> Iterator[tuple[int, np.ndarray]]:
    """`(start_sample, window (win,))` pairs over a stream of 1-D float32 blocks."""
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
    if total < win and last_end == 0:
        yield 0, np.pad(buf, (0, win - len(buf)))
    elif last_end < total:
        yield total - win, buf[len(buf) - win :].copy()
