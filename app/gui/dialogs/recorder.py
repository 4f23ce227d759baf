"""Microphone capture: the PortAudio callback copies frames into a ring buffer and nothing else.

A GUI timer calls `Recorder.drain()` to move what arrived into the recording (and to draw the
level meter), as friture does. sounddevice is imported inside the functions, so PortAudio
starts only when the user first asks for a device (and after a test has set ALSA_CONFIG_PATH).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

RATE = 16_000


class NoInputDevice(Exception):
    """There is no microphone (no input device) on this computer."""

    def __str__(self) -> str:
        return ("No microphone was found: this computer has no audio input device. Connect one "
                "(or enable it in the system's sound settings) and open Record again.")


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    default_rate: float


def input_devices() -> list[InputDevice]:
    """Devices that can capture, as sounddevice lists them (empty when there are none)."""
    import sounddevice as sd

    return [InputDevice(i, d["name"], d["default_samplerate"])
            for i, d in enumerate(sd.query_devices()) if d["max_input_channels"] > 0]


class RingBuffer:
    """Single-producer (audio thread) / single-consumer (GUI thread) float32 ring.

    When full, new frames are dropped and counted in `dropped`: the recording keeps what came
    first, and the reader always sees frames in order.
    """

    def __init__(self, capacity: int):
        self._buf = np.zeros(capacity, np.float32)
        self._written = 0  # total frames written (only the producer changes it)
        self._read = 0  # total frames read (only the consumer changes it)
        self.dropped = 0

    def write(self, x: np.ndarray) -> None:
        cap = len(self._buf)
        n = min(len(x), cap - (self._written - self._read))
        self.dropped += len(x) - n
        i = self._written % cap
        first = min(n, cap - i)
        self._buf[i : i + first] = x[:first]
        self._buf[: n - first] = x[first:n]
        self._written += n

    def read_all(self) -> np.ndarray:
        end = self._written
        cap = len(self._buf)
        idx = np.arange(self._read, end) % cap
        out = self._buf[idx].copy()
        self._read = end
        return out


class Recorder:
    """One recording from one input device, mono float32 at `rate` (16 kHz when the device can).

    Capture is 16-bit integer, as almost every microphone delivers it; the callback scales it to
    float32 in [-1, 1) (x / 32768, exact) on its way into the ring buffer.
    """

    def __init__(self, device: int | None = None, rate: int = RATE, ring_seconds: float = 10.0):
        self.device = device
        self.rate = rate
        self.ring = RingBuffer(int(ring_seconds * rate))
        self._chunks: list[np.ndarray] = []
        self._stream: Any = None
        self.status_flags = 0

    @property
    def running(self) -> bool:
        return self._stream is not None

    def start(self) -> None:
        import sounddevice as sd

        if not input_devices():
            raise NoInputDevice()
        try:
            stream = sd.InputStream(device=self.device, channels=1, samplerate=self.rate,
                                    dtype="int16", callback=self._callback)
        except sd.PortAudioError:
            info = sd.query_devices(self.device, "input")  # the device's own rate, if 16 kHz fails
            self.rate = int(info["default_samplerate"])
            self.ring = RingBuffer(len(self.ring._buf) // RATE * self.rate or self.rate)
            stream = sd.InputStream(device=self.device, channels=1, samplerate=self.rate,
                                    dtype="int16", callback=self._callback)
        stream.start()
        self._stream = stream

    def _callback(self, indata, frames, time, status) -> None:  # PortAudio thread
        self.ring.write(indata[:, 0] * np.float32(1 / 32768))

    def drain(self) -> np.ndarray:
        """Move what arrived since the last call into the recording; returns that chunk."""
        chunk = self.ring.read_all()
        if len(chunk):
            self._chunks.append(chunk)
        return chunk

    def stop(self) -> np.ndarray:
        """Stop capture and return the whole recording."""
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
        self.drain()
        return self.samples()

    def samples(self) -> np.ndarray:
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)

    @property
    def seconds(self) -> float:
        return sum(len(c) for c in self._chunks) / self.rate


def peak_dbfs(chunk: np.ndarray) -> float:
    """Peak level of a chunk in dB full scale (-100 for silence)."""
    peak = float(np.max(np.abs(chunk))) if len(chunk) else 0.0
    return 20.0 * np.log10(peak) if peak > 1e-5 else -100.0
