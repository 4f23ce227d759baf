"""The microphone: input devices and `MicStream`, which captures into a `FrameRing`.

One stack for live mode, `ast-studio listen` and the Record dialog. The PortAudio callback only
scales the 16-bit frames to float32, stamps and copies them into the ring, and counts status
flags (overruns); resampling happens in the reader (`ast_core.audio.resample`), never in the
callback. sounddevice is imported inside the functions, so PortAudio starts only when a device
is first asked for (and after a test has pointed ALSA or PulseAudio somewhere else).

Capture is 16-bit integer, as almost every microphone delivers it; the callback scales it to
float32 in [-1, 1) (x / 32768, exact). The stream opens at `SAMPLE_RATE`, or at the device's own
rate when that is refused.

Times are `time.monotonic()` seconds. The callback converts PortAudio's input timestamps (ADC
time of the block's first frame, on PortAudio's clock) to the monotonic clock by their distance
from PortAudio's `currentTime`; when a host API gives no usable ADC time the callback's own
arrival time stands in (a lower bound on latency).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ast_core.audio import SAMPLE_RATE
from ast_core.errors import AstStudioError
from ast_core.live.ring import FrameRing

NO_MICROPHONE = ("No microphone was found: this computer has no audio input device. Connect one "
                 "(or enable it in the system's sound settings) and try again.")
_INT16_SCALE = np.float32(1 / 32768)


class LiveError(AstStudioError):
    """A microphone problem a user can fix: no device, busy, unplugged."""


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    default_rate: float


def _sounddevice() -> Any:
    try:
        import sounddevice as sd
    except OSError as e:  # the PortAudio library itself is missing
        raise LiveError(f"The audio system could not be opened: {e}") from e
    return sd


def input_devices() -> list[InputDevice]:
    """Devices that can capture, as PortAudio lists them (empty when there are none).

    Raises `LiveError` when the audio system itself cannot be opened.
    """
    sd = _sounddevice()
    try:
        found = sd.query_devices()
    except sd.PortAudioError as e:
        raise LiveError(f"The audio system could not be opened: {e}") from e
    return [InputDevice(i, d["name"], d["default_samplerate"])
            for i, d in enumerate(found) if d["max_input_channels"] > 0]


class MicStream:
    """Capture mono audio from an input device into `ring` (see the module notes).

    `stop_when_full`: the ring never wraps; capture stops (and `full` turns True) when it has
    `ring_seconds` of audio, so a reader that falls behind loses nothing (a recorded take).
    Otherwise the newest audio overwrites the oldest (live tagging).
    """

    def __init__(self, device: int | str | None = None, ring_seconds: float = 30.0,
                 blocksize: int = 0, stop_when_full: bool = False):
        self.device = device
        self.ring_seconds = ring_seconds
        self.blocksize = blocksize
        self.stop_when_full = stop_when_full
        self.ring = FrameRing(int(ring_seconds * SAMPLE_RATE), SAMPLE_RATE)
        self.overruns = 0  # blocks flagged input_overflow by PortAudio
        self.status_flags = 0  # blocks with any status flag
        self.callbacks = 0
        self.timestamps = "portaudio"  # or "arrival" when the host API gives no ADC time
        self.full = False  # stop_when_full and the ring is full: capture ended on purpose
        self.finished = False
        self._stream: Any = None

    @property
    def rate(self) -> int:
        return self.ring.rate

    @property
    def running(self) -> bool:
        return self._stream is not None

    @property
    def failed(self) -> str | None:
        """Why capture stopped on its own (unplugged, busy), or None while it runs."""
        if self.finished and not self.full and self._stream is not None:
            return ("The input device stopped delivering audio (unplugged, taken by another "
                    "program, or switched off). Check it and press Start again.")
        return None

    def start(self) -> None:
        """Open and start the stream; raises `LiveError` with what to do when it can't."""
        if not input_devices():
            raise LiveError(NO_MICROPHONE)
        sd = _sounddevice()
        try:
            stream = self._open(sd, SAMPLE_RATE)
        except sd.PortAudioError:
            try:  # SAMPLE_RATE refused: capture at the device's own rate, resample when read
                native = int(sd.query_devices(self.device, "input")["default_samplerate"])
                stream = self._open(sd, native)
            except (sd.PortAudioError, ValueError) as e:
                raise LiveError(f"The input device could not be opened (busy or unplugged?): "
                                f"{e}") from e
        except ValueError as e:  # unknown device name/index
            raise LiveError(f"No such input device: {self.device!r} ({e})") from e
        try:
            stream.start()
        except sd.PortAudioError as e:
            stream.close()
            raise LiveError(f"The input device could not be started (busy?): {e}") from e
        self._stream = stream

    def _open(self, sd: Any, rate: int) -> Any:
        self.ring = FrameRing(int(self.ring_seconds * rate), rate)
        return sd.InputStream(device=self.device, channels=1, samplerate=rate, dtype="int16",
                              blocksize=self.blocksize, callback=self._callback,
                              finished_callback=self._finished)

    def _callback(self, indata, frames, t, status) -> None:  # PortAudio thread: copy and count
        now = time.monotonic()
        self.callbacks += 1
        if status:
            self.status_flags += 1
            if status.input_overflow:
                self.overruns += 1
        age = t.currentTime - t.inputBufferAdcTime  # how long ago the first frame was captured
        if t.inputBufferAdcTime > 0 and 0.0 <= age < 5.0:
            t_last = now - age + (frames - 1) / self.ring.rate
        else:
            self.timestamps = "arrival"
            t_last = now
        x = indata[:, 0] * _INT16_SCALE
        if self.stop_when_full:
            room = self.ring.capacity - self.ring.written
            if len(x) >= room:
                self.ring.write(x[:room], t_last)
                self.full = True
                import sounddevice as sd

                raise sd.CallbackStop  # PortAudio ends the stream after this block
        self.ring.write(x, t_last)

    def _finished(self) -> None:  # PortAudio thread, when the stream ends for any reason
        self.finished = True

    def stop(self) -> None:
        """Stop and close the stream (safe to call twice, or after the device vanished)."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:  # noqa: BLE001 - an unplugged device may fail to close; it is gone
                pass
