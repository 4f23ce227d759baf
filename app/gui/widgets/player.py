"""Playback through sounddevice; a GUI timer reports the position for the moving cursor.

The PortAudio callback only copies the next frames of its source to the output and advances a
frame counter; `position` is read by a 30-ms QTimer on the GUI thread. A source is a clip in
memory or a `FileStream` (a long file read ahead by its own thread); positions are seconds into
the file either way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from ast_core.audio import SAMPLE_RATE


class _Samples:
    """A clip in memory as a source: `read` and `finished` like `FileStream`'s."""

    def __init__(self, samples: np.ndarray, start: int):
        self._samples, self._pos = samples, start
        self.error: Exception | None = None

    def read(self, frames: int) -> np.ndarray:
        chunk = self._samples[self._pos : self._pos + frames]
        self._pos += len(chunk)
        return chunk

    @property
    def finished(self) -> bool:
        return self._pos >= len(self._samples)

    def close(self) -> None:
        pass


class Player(QObject):
    position = Signal(float)  # seconds into the clip or file
    stopped = Signal()
    failed = Signal(object)  # exception: a streamed file could not be read on

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._source: Any = None
        self._rate = SAMPLE_RATE
        self._offset_s = 0.0
        self._played = 0  # frames given to the sound card since the start (silence not counted)
        self._stream: Any = None
        self._timer = QTimer(self)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self._tick)

    @property
    def playing(self) -> bool:
        return self._stream is not None

    @property
    def seconds(self) -> float:
        """Where playback is: seconds into the clip or file."""
        return self._offset_s + self._played / self._rate

    def play(self, samples: np.ndarray, rate: int, start_s: float = 0.0) -> None:
        """Start playing (raises sounddevice.PortAudioError when there is no output device)."""
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        start = min(len(samples), max(0, round(start_s * rate)))
        self._start(_Samples(samples, start), rate, start / rate)

    def play_stream(self, source: Any) -> None:
        """Play a started `FileStream` (closed when playback stops); raises like `play`."""
        try:
            self._start(source, source.rate, source.start_s)
        except BaseException:
            source.close()
            raise

    def _start(self, source: Any, rate: int, offset_s: float) -> None:
        import sounddevice as sd

        self.stop()
        self._source, self._rate, self._offset_s, self._played = source, rate, offset_s, 0
        stream = sd.OutputStream(samplerate=rate, channels=1, dtype="float32",
                                 callback=self._callback)
        stream.start()
        self._stream = stream
        self._timer.start()

    def _callback(self, outdata, frames, time, status) -> None:  # PortAudio thread
        import sounddevice as sd

        chunk = self._source.read(frames)
        outdata[: len(chunk), 0] = chunk
        outdata[len(chunk) :, 0] = 0.0
        self._played += len(chunk)
        if len(chunk) < frames and self._source.finished:
            raise sd.CallbackStop

    def _tick(self) -> None:
        self.position.emit(self.seconds)
        if self._stream is not None and not self._stream.active:
            error = self._source.error
            self.stop()
            if error is not None:
                self.failed.emit(error)

    def stop(self) -> None:
        if not self.playing:
            return
        self._timer.stop()
        stream, self._stream = self._stream, None
        stream.abort()
        stream.close()
        self._source.close()
        self.stopped.emit()
