"""The ring buffer between the audio thread and its readers, and a reader's place in it.

`FrameRing` is written by one producer (the PortAudio callback, or a feeder) and read without a
lock: besides the frames, the producer publishes one tuple `stamp = (frames written, monotonic
capture time of the last of them)`, assigned after the frames are in place; assigning a tuple is
atomic in Python, so a reader always sees a consistent pair and complete frames before it.
"""

from __future__ import annotations

import numpy as np


class FrameRing:
    """Single-producer float32 ring; the newest frames overwrite the oldest."""

    def __init__(self, capacity: int, rate: int):
        self.rate = rate
        self._buf = np.zeros(capacity, np.float32)
        self.stamp: tuple[int, float] = (0, 0.0)  # (frames written, capture time of the last)

    @property
    def capacity(self) -> int:
        return len(self._buf)

    @property
    def written(self) -> int:
        """Frames written so far (the ring frame index after the newest)."""
        return self.stamp[0]

    def write(self, x: np.ndarray, t_last: float) -> None:
        """Producer side: append frames [n]; `t_last` is the capture time of the last of them."""
        written, n = self.stamp[0], len(x)
        cap = len(self._buf)
        x = x[-cap:]  # more than fits: only the newest frames are kept
        i = (written + n - len(x)) % cap
        first = min(len(x), cap - i)
        self._buf[i : i + first] = x[:first]
        self._buf[: len(x) - first] = x[first:]
        self.stamp = (written + n, t_last)

    def read(self, end: int, n: int) -> np.ndarray:
        """A copy of the `n` frames before frame index `end`, float32 [n] (zeros before 0)."""
        cap = len(self._buf)
        if n > cap:
            raise ValueError(f"asked for {n} frames from a ring of {cap}")
        start = end - n
        lo = max(start, 0)
        if lo == end:
            out = np.zeros(0, np.float32)
        elif lo // cap == (end - 1) // cap:  # one piece: a slice, no index array
            out = self._buf[lo % cap : (end - 1) % cap + 1].copy()
        else:
            out = np.concatenate([self._buf[lo % cap :], self._buf[: end % cap]])
        return np.concatenate([np.zeros(-start, np.float32), out]) if start < 0 else out


class RingCursor:
    """One reader's place in a `FrameRing`: `new()` returns what arrived since its last call."""

    def __init__(self, ring: FrameRing, position: int = 0):
        self.ring = ring
        self.position = position  # ring frame index of the next frame to return
        self.lost = 0  # frames overwritten before this reader got to them

    def new(self) -> np.ndarray:
        """The frames written since the last call, float32 [n], oldest first.

        If more than the ring holds arrived meanwhile, only the newest `capacity` frames are
        returned and the rest are counted in `lost`.
        """
        end = self.ring.written
        n = end - self.position
        keep = min(n, self.ring.capacity)
        self.lost += n - keep
        self.position = end
        return self.ring.read(end, keep)
