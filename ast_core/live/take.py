"""A recorded take: everything one input device captures from Start to Stop (the Record dialog).

The same `MicStream` and `FrameRing` as live tagging, opened so that the ring holds the whole
take and never wraps (`stop_when_full`): a reader that drains it late loses nothing, and capture
ends by itself at `max_seconds`. `new_audio()` hands out what arrived since the last call (for
a level meter); `samples()` is the take so far, at the device's rate (`rate`).
"""

from __future__ import annotations

import numpy as np

from ast_core.live.microphone import MicStream
from ast_core.live.ring import RingCursor

MAX_TAKE_S = 600.0  # ten minutes; a longer recording belongs in a file


class Take:
    """One recording from one input device (see the module notes)."""

    def __init__(self, device: int | str | None = None, max_seconds: float = MAX_TAKE_S):
        self.max_seconds = max_seconds
        self.mic = MicStream(device, ring_seconds=max_seconds, stop_when_full=True)
        self._cursor = RingCursor(self.mic.ring)

    def start(self) -> None:
        """Start capturing; raises `LiveError` (no device, busy, ...) with what to do."""
        self.mic.start()
        self._cursor = RingCursor(self.mic.ring)  # start() may reopen at the device's rate

    @property
    def rate(self) -> int:
        return self.mic.rate

    @property
    def seconds(self) -> float:
        return self.mic.ring.written / self.rate

    @property
    def full(self) -> bool:
        """The take reached `max_seconds` and capture stopped."""
        return self.mic.full

    @property
    def failed(self) -> str | None:
        """Why capture stopped on its own (the device vanished), else None."""
        return self.mic.failed

    def new_audio(self) -> np.ndarray:
        """float32 [n]: the audio that arrived since the last call."""
        return self._cursor.new()

    def samples(self) -> np.ndarray:
        """float32 [n] at `rate`: the whole take so far."""
        end = self.mic.ring.written
        return self.mic.ring.read(end, end)

    def stop(self) -> np.ndarray:
        """Stop capturing and return the whole take, float32 [n] at `rate`."""
        self.mic.stop()
        return self.samples()


def peak_dbfs(chunk: np.ndarray) -> float:
    """Peak level of float32 samples [n] in dB full scale (-100 for silence or no samples)."""
    peak = float(np.max(np.abs(chunk))) if len(chunk) else 0.0
    return 20.0 * float(np.log10(peak)) if peak > 1e-5 else -100.0
