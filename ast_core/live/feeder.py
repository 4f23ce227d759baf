"""`RealTimeFeeder`: audio played into a `FrameRing` in real time, without a device.

It behaves like the PortAudio callback (blocks of `block` frames, each stamped with its arrival
time), so benchmarks and tests drive `LiveAnalyzer` exactly as a microphone would.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from ast_core.audio import SAMPLE_RATE
from ast_core.live.ring import FrameRing


class RealTimeFeeder:
    """Plays samples [n] (looped unless `loop=False`) into `ring` from a thread."""

    def __init__(self, samples: np.ndarray, rate: int = SAMPLE_RATE, block: int = 320,
                 ring_seconds: float = 30.0, loop: bool = True):
        self.ring = FrameRing(int(ring_seconds * rate), rate)
        self.overruns = 0
        self.failed: str | None = None
        self._samples = np.asarray(samples, np.float32)
        self._block = block
        self._loop = loop
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feeder", daemon=True)

    def start(self) -> RealTimeFeeder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        t0 = time.monotonic()
        sent, n = 0, len(self._samples)
        while not self._stop.is_set():
            due = t0 + (sent + self._block) / self.ring.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if not self._loop and sent >= n:
                break
            idx = np.arange(sent, sent + self._block)
            self.ring.write(self._samples[idx % n], time.monotonic())
            sent += self._block
