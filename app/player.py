"""Playback through sounddevice; a GUI timer reports the position for the moving cursor.

The PortAudio callback only copies the next block of the clip to the output and advances a
frame counter; `position` is read by a 30-ms QTimer on the GUI thread.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal


class Player(QObject):
    position = Signal(float)  # seconds into the clip
    stopped = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._samples = np.zeros(0, np.float32)
        self._rate = 16_000
        self._pos = 0
        self._stream: Any = None
        self._timer = QTimer(self)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self._tick)

    @property
    def playing(self) -> bool:
        return self._stream is not None

    def play(self, samples: np.ndarray, rate: int, start_s: float = 0.0) -> None:
        """Start playing (raises sounddevice.PortAudioError when there is no output device)."""
        import sounddevice as sd

        self.stop()
        self._samples = np.ascontiguousarray(samples, dtype=np.float32)
        self._rate = rate
        self._pos = min(len(self._samples), max(0, round(start_s * rate)))
        stream = sd.OutputStream(samplerate=rate, channels=1, dtype="float32",
                                 callback=self._callback)
        stream.start()
        self._stream = stream
        self._timer.start()

    def _callback(self, outdata, frames, time, status) -> None:  # PortAudio thread
        import sounddevice as sd

        chunk = self._samples[self._pos : self._pos + frames]
        outdata[: len(chunk), 0] = chunk
        outdata[len(chunk) :, 0] = 0.0
        self._pos += len(chunk)
        if len(chunk) < frames:
            raise sd.CallbackStop

    def _tick(self) -> None:
        self.position.emit(self._pos / self._rate)
        if self._stream is not None and not self._stream.active:
            self.stop()

    def stop(self) -> None:
        if self._stream is None:
            return
        self._timer.stop()
        stream, self._stream = self._stream, None
        stream.abort()
        stream.close()
        self.stopped.emit()
