"""Playback of a long file from any point without decoding it whole: a reader thread stays a few
seconds ahead of the sound card, reading chunks with `ast_core.audio.decode.read_range`.

No Qt here. The reader is a plain thread of its own rather than a Qt pool worker: it lives as
long as the playback (up to hours), and the pool has only as many threads as cores (two on the
reference machine), which the overview, scoring and detail workers need. It never touches Qt
objects; the PortAudio callback takes frames with `read`, which neither blocks nor does I/O
(a deque: the reader appends, the callback pops). When the reader falls behind, `read` returns
fewer frames and the player plays silence without advancing the position.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

import numpy as np

from ast_core.audio import SAMPLE_RATE


class FileStream:
    """Samples of `path` from `start_s` to the end at `rate`, read `chunk_s` at a time, at most
    `ahead_s` ahead of what was taken. Call `start()`; `close()` stops the reader."""

    def __init__(
        self,
        path: str,
        start_s: float,
        rate: int = SAMPLE_RATE,
        chunk_s: float = 4.0,
        ahead_s: float = 12.0,
        read: Callable[[str, float, float, int], np.ndarray] | None = None,
    ):
        if read is None:
            from ast_core.audio.decode import read_range as read
        self.path, self.start_s, self.rate = path, start_s, rate
        self.error: Exception | None = None  # why the reader stopped early, if it did
        self._read = read
        self._chunk = max(1, round(chunk_s * rate))
        self._ahead = max(self._chunk, round(ahead_s * rate))
        self._chunks: deque[np.ndarray] = deque()
        self._head = 0  # frames of _chunks[0] already taken (callback only)
        self._queued = 0  # frames appended (reader only)
        self._taken = 0  # frames taken (callback only)
        self._done = False  # the reader has appended its last chunk
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="file-stream", daemon=True)

    def start(self) -> FileStream:
        self._thread.start()
        return self

    def close(self) -> None:
        """Ask the reader to stop (it does after the chunk it is reading); never blocks."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the reader thread to end; True when it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def finished(self) -> bool:
        """Everything the reader will ever read has been taken."""
        return self._done and not self._chunks

    def _run(self) -> None:  # reader thread
        pos = round(self.start_s * self.rate)
        try:
            while not self._stop.is_set():
                if self._queued - self._taken >= self._ahead:
                    self._stop.wait(0.02)
                    continue
                x = self._read(self.path, pos / self.rate, self._chunk / self.rate, self.rate)
                if len(x):
                    self._chunks.append(np.ascontiguousarray(x, dtype=np.float32))
                    self._queued += len(x)
                    pos += len(x)
                if len(x) < self._chunk:
                    break  # the end of the file
        except Exception as e:  # reported by the player (see `error`)
            self.error = e
        finally:
            self._done = True

    def read(self, frames: int) -> np.ndarray:
        """Up to `frames` next frames (fewer when the reader is behind or at the end)."""
        parts: list[np.ndarray] = []
        need = frames
        while need and self._chunks:
            chunk = self._chunks[0]
            piece = chunk[self._head : self._head + need]
            parts.append(piece)
            need -= len(piece)
            self._head += len(piece)
            if self._head == len(chunk):
                self._chunks.popleft()
                self._head = 0
        self._taken += frames - need
        if len(parts) == 1:
            return parts[0]
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)
