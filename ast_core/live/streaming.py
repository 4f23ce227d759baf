"""Live tagging: microphone -> ring buffer -> newest window -> labels, with its cost measured.

Shared by the desktop app's Live view, `ast-studio listen` and `ast-studio bench --live`; no Qt.

- `FrameRing`: a numpy ring written by one producer (the PortAudio callback) and read by one
  consumer (the analysis thread) without a lock. Besides the frames, the producer publishes one
  tuple `stamp = (frames written, monotonic capture time of the last of them)`; assigning a
  tuple is atomic in Python, so the reader always sees a consistent pair.
- `MicStream`: a sounddevice `InputStream` whose callback only copies frames into the ring and
  counts status flags (overruns). It opens at 16 kHz, or at the device's own rate when 16 kHz is
  not supported; resampling then happens in the analysis step, never in the callback.
- `LiveAnalyzer`: at each hop it takes the NEWEST window (never a backlog: hops that passed while
  it was busy are dropped and counted), scores it and reports an `Analysis` with its cost.

Times: every time here is `time.monotonic()` seconds. The callback converts PortAudio's input
timestamps (ADC time of the block's first frame, on PortAudio's clock) to the monotonic clock by
their distance from PortAudio's `currentTime`; when a host API gives no usable ADC time the
callback's own arrival time stands in (a lower bound on latency). Latency is "capture of the
newest analysed sample -> labels ready" (`latency_ms`); a GUI adds its own drawing time.
Real-time factor is analysis time / hop: above 1 the hop cannot be sustained.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ast_core.errors import AstStudioError

RATE = 16_000
STALL_S = 2.0  # no audio for this long while capturing: the device is gone
START_S = 6.0  # ... or for this long after starting


def live_threads() -> int:
    """Torch threads for live analysis: all cores but one, left to audio, drawing and the OS
    (on a busy 2-core machine two spinning threads made a 3-ms window take 350 ms)."""
    import os

    return max(1, (os.cpu_count() or 2) - 1)


class _ThreadCount:
    """The count before the first of overlapping `torch_threads` blocks, and how many are open."""

    lock = threading.Lock()
    open = 0
    before = 0


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with `n` torch threads (a process-wide setting), then restore the count.

    Blocks may overlap across threads (a live run still ending while the next starts): the
    count set before the first of them comes back when the last one ends.
    """
    import torch

    with _ThreadCount.lock:
        if _ThreadCount.open == 0:
            _ThreadCount.before = torch.get_num_threads()
        _ThreadCount.open += 1
        torch.set_num_threads(n)
    try:
        yield
    finally:
        with _ThreadCount.lock:
            _ThreadCount.open -= 1
            if _ThreadCount.open == 0:
                torch.set_num_threads(_ThreadCount.before)


def load_for_window(source: str | Path, window_s: float, device: str | None = None) -> Any:
    """A `Classifier` whose input is cut to `window_s` when that is shorter than the model's.

    The position embedding is cropped as AST does for shorter inputs (`load_model`'s
    `target_length`), so each analysis costs the window rather than the model's full input
    (a 1-s window of a 10.24-s AudioSet model: ~15x less work). Scores can differ a little from
    the zero-padded full-length input the model was trained on.
    """
    from ast_core.model.checkpoints import load_model
    from ast_core.run.classifier import Classifier
    from ast_core.store.model_store import resolve

    path = resolve(source)
    loaded = load_model(path)
    fb = loaded.fbank
    shift = int(fb.sample_rate * fb.frame_shift_ms / 1000)
    length = int(fb.sample_rate * fb.frame_length_ms / 1000)
    frames = (round(window_s * fb.sample_rate) - length) // shift + 1
    if frames < fb.target_length:
        loaded = load_model(path, target_length=max(16, frames))
    return Classifier(loaded, device)


class LiveError(AstStudioError):
    """A microphone problem a user can fix: no device, busy, unplugged."""


class FrameRing:
    """Single-producer / single-consumer float32 ring; the newest frames overwrite the oldest."""

    def __init__(self, capacity: int, rate: int):
        self.rate = rate
        self._buf = np.zeros(capacity, np.float32)
        self.stamp: tuple[int, float] = (0, 0.0)  # (frames written, capture time of the last)

    @property
    def capacity(self) -> int:
        return len(self._buf)

    def write(self, x: np.ndarray, t_last: float) -> None:
        """Producer side: append frames; `t_last` is the capture time of the last of them."""
        written, n = self.stamp[0], len(x)
        cap = len(self._buf)
        x = x[-cap:]  # more than fits: only the newest frames are kept
        i = (written + n - len(x)) % cap
        first = min(len(x), cap - i)
        self._buf[i : i + first] = x[:first]
        self._buf[: len(x) - first] = x[first:]
        self.stamp = (written + n, t_last)

    def read(self, end: int, n: int) -> np.ndarray:
        """Consumer side: a copy of the `n` frames before frame index `end` (zeros before 0)."""
        cap = len(self._buf)
        if n > cap:
            raise ValueError(f"asked for {n} frames from a ring of {cap}")
        start = end - n
        idx = np.arange(max(start, 0), end) % cap
        out = self._buf[idx]
        return np.concatenate([np.zeros(-start, np.float32), out]) if start < 0 else out


class AudioSource(Protocol):
    """What `LiveAnalyzer` reads: a ring and whether capture has stopped."""

    ring: FrameRing

    @property
    def failed(self) -> str | None: ...


class MicStream:
    """Capture mono audio from an input device into a `FrameRing` (see the module notes)."""

    def __init__(self, device: int | str | None = None, ring_seconds: float = 30.0,
                 blocksize: int = 0):
        self.device = device
        self.ring_seconds = ring_seconds
        self.blocksize = blocksize
        self.ring = FrameRing(int(ring_seconds * RATE), RATE)
        self.overruns = 0  # blocks flagged input_overflow by PortAudio
        self.status_flags = 0  # blocks with any status flag
        self.callbacks = 0
        self.timestamps = "portaudio"  # or "arrival" when the host API gives no ADC time
        self.finished = False
        self._stream: Any = None

    @property
    def rate(self) -> int:
        return self.ring.rate

    @property
    def failed(self) -> str | None:
        """Why capture stopped on its own (unplugged, busy), or None while it runs."""
        if self.finished and self._stream is not None:
            return ("The input device stopped delivering audio (unplugged, taken by another "
                    "program, or switched off). Check it and press Start again.")
        return None

    def start(self) -> None:
        import sounddevice as sd

        try:
            devices = [d for d in sd.query_devices() if d["max_input_channels"] > 0]
        except sd.PortAudioError as e:
            raise LiveError(f"The audio system could not be opened: {e}") from e
        if not devices:
            raise LiveError("No microphone was found: this computer has no audio input device. "
                            "Connect one (or enable it in the system's sound settings).")
        try:
            stream = self._open(sd, RATE)
        except sd.PortAudioError:
            try:  # 16 kHz unsupported: capture at the device's own rate, resample later
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
        return sd.InputStream(device=self.device, channels=1, samplerate=rate, dtype="float32",
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
        self.ring.write(indata[:, 0], t_last)

    def _finished(self) -> None:  # PortAudio thread, when the stream ends for any reason
        self.finished = True

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:  # noqa: BLE001 - an unplugged device may fail to close; it is gone
                pass


class Scorer(Protocol):
    labels: list[str]

    def score_batch(self, waves: np.ndarray) -> np.ndarray: ...


@dataclass
class LiveConfig:
    window_s: float = 1.0
    hop_s: float = 0.5
    top_k: int = 5
    threshold: float = 0.5
    label_filter: frozenset[str] | None = None  # show only these labels (None: all)
    event_labels: frozenset[str] | None = None  # log crossings of these (None: shown labels)
    snippet_dir: Path | None = None  # save the audio around each event here
    snippet_pre_s: float = 1.0  # audio kept before the analysed window in a snippet


@dataclass(frozen=True)
class LiveEvent:
    label: str
    time_s: float  # stream time of the newest sample of the window that crossed
    score: float
    wall_time: float  # time.time() when it was detected
    snippet: Path | None = None


@dataclass
class Analysis:
    index: int
    time_s: float  # stream time of the newest analysed sample (seconds since capture began)
    capture_time: float  # monotonic capture time of that sample
    ready_time: float  # monotonic time the labels were ready
    analysis_ms: float
    rtf: float  # analysis time / hop
    dropped: int  # windows dropped so far (stale hops skipped)
    overruns: int  # PortAudio input overflows so far
    scores: np.ndarray  # (labels,) after the label filter (others are 0)
    top: list[tuple[str, float]]  # shown labels: top-k above threshold, best first
    changed: bool  # the shown label set differs from the previous analysis
    events: list[LiveEvent] = field(default_factory=list)

    @property
    def latency_ms(self) -> float:
        """Capture of the newest analysed sample -> labels ready."""
        return (self.ready_time - self.capture_time) * 1000

    def to_dict(self) -> dict:
        return {
            "time": round(self.time_s, 3),
            "labels": [name for name, _ in self.top],
            "scores": [round(s, 4) for _, s in self.top],
            "latency_ms": round(self.latency_ms, 1),
            "analysis_ms": round(self.analysis_ms, 1),
            "rtf": round(self.rtf, 3),
            "dropped": self.dropped,
            "overruns": self.overruns,
            "changed": self.changed,
            "events": [{"label": e.label, "time": round(e.time_s, 3), "score": round(e.score, 4),
                        "snippet": str(e.snippet) if e.snippet else None} for e in self.events],
        }


class LiveAnalyzer:
    """Scores the newest window of `source.ring` every hop (see the module notes)."""

    def __init__(self, scorer: Scorer, source: AudioSource | None, config: LiveConfig,
                 model_window_s: float | None = None):
        self.scorer = scorer
        self.source = source
        self.config = config
        self.labels = list(scorer.labels)
        fb = getattr(scorer, "fbank", None)
        self.model_window_s = model_window_s or (fb.window_seconds if fb else config.window_s)
        self.stall_s = STALL_S
        self.dropped = 0
        self.count = 0
        self._last_end = 0  # ring frame index of the newest sample analysed last time
        self._shown: frozenset[str] = frozenset()
        self._above: set[str] = set()
        mask = [config.label_filter is None or n in config.label_filter for n in self.labels]
        self._mask = np.asarray(mask, bool)

    def warm_up(self) -> None:
        """Score one silent window, so the first live analysis does not pay start-up costs."""
        self.scorer.score_batch(np.zeros((1, round(self.model_window_s * RATE)), np.float32))

    # ------------------------------------------------------------------ the loop
    def results(self, should_stop: Callable[[], bool]) -> Iterator[Analysis]:
        """Analyses until `should_stop()`; waits in short sleeps so stopping is prompt."""
        last_audio, last_written = time.monotonic(), 0
        while not should_stop():
            reason = self.source.failed
            if reason:
                raise LiveError(reason)
            written = self.source.ring.stamp[0]
            now = time.monotonic()
            limit = self.stall_s if written else START_S  # some devices take a while to start
            if written != last_written:
                last_written, last_audio = written, now
            elif now - last_audio > limit:
                raise LiveError(f"No audio arrived for {limit:.0f} s: the input device is "
                                "unplugged, busy or muted. Check it and start again.")
            result = self.step()
            if result is None:
                time.sleep(min(0.02, self.config.hop_s / 4))
                continue
            yield result

    def step(self) -> Analysis | None:
        """Analyse the newest window if a hop of new audio has arrived, else None."""
        ring = self.source.ring
        end, t_end = ring.stamp
        hop = max(1, round(self.config.hop_s * ring.rate))
        due = end // hop - self._last_end // hop  # hop boundaries passed since the last time
        if due < 1:
            return None
        if self.count:  # all but the newest of them went by while busy: dropped
            self.dropped += due - 1
        self._last_end = end
        window = ring.read(end, min(ring.capacity, round(self.config.window_s * ring.rate)))
        t_start = time.monotonic()
        scores = self._score(window, ring.rate)
        ready = time.monotonic()
        return self._report(scores, end, t_end, t_start, ready)

    # ------------------------------------------------------------------ helpers
    def _score(self, window: np.ndarray, rate: int) -> np.ndarray:
        """Resample to 16 kHz if needed; a window longer than the model's is scored as
        model-length pieces ending at the newest sample, keeping each label's maximum."""
        if rate != RATE:
            import torch
            import torchaudio.functional as taf

            g = math.gcd(rate, RATE)
            window = taf.resample(torch.from_numpy(window), rate // g, RATE // g).numpy()
        piece = round(self.model_window_s * RATE)
        if len(window) <= piece * 1.05:
            return self.scorer.score_batch(window[None])[0]
        starts = np.unique(np.linspace(len(window) - piece, 0, math.ceil(len(window) / piece))
                           .round().astype(int))
        return self.scorer.score_batch(np.stack([window[s : s + piece] for s in starts])).max(0)

    def _report(self, scores: np.ndarray, end: int, t_end: float, t_start: float,
                ready: float) -> Analysis:
        cfg = self.config
        rate = self.source.ring.rate
        raw, scores = scores, np.where(self._mask, scores, 0.0).astype(np.float32)
        order = np.argsort(-scores, kind="stable")[: cfg.top_k]
        top = [(self.labels[i], float(scores[i])) for i in order
               if self._mask[i] and scores[i] >= cfg.threshold]
        shown = frozenset(n for n, _ in top)
        changed, self._shown = shown != self._shown or self.count == 0, shown
        time_s = (end - 1) / rate
        events, above = [], set()
        for i, name in enumerate(self.labels):
            watched = self._mask[i] if cfg.event_labels is None else name in cfg.event_labels
            if watched and raw[i] >= cfg.threshold:
                above.add(name)
                if name not in self._above:
                    snippet = self._save_snippet(name, time_s, end) if cfg.snippet_dir else None
                    events.append(LiveEvent(name, time_s, float(raw[i]), time.time(), snippet))
        self._above = above
        analysis_ms = (ready - t_start) * 1000
        result = Analysis(self.count, time_s, t_end, ready, analysis_ms,
                          analysis_ms / 1000 / cfg.hop_s, self.dropped,
                          getattr(self.source, "overruns", 0), scores, top, changed, events)
        self.count += 1
        return result

    def _save_snippet(self, label: str, time_s: float, end: int) -> Path:
        from ast_core.audio.decode import save_wav

        ring = self.source.ring
        n = min(ring.capacity, round((self.config.window_s + self.config.snippet_pre_s)
                                     * ring.rate))
        folder = Path(self.config.snippet_dir or ".")
        folder.mkdir(parents=True, exist_ok=True)
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in label)
        path = folder / f"{safe}_{time_s:09.3f}s.wav"
        save_wav(path, ring.read(end, n), ring.rate)
        return path


class RealTimeFeeder:
    """Plays samples into a `FrameRing` in real time from a thread, as a PortAudio callback
    would (blocks of `block` frames, each stamped with its arrival time); for benchmarks/tests."""

    def __init__(self, samples: np.ndarray, rate: int = RATE, block: int = 320,
                 ring_seconds: float = 30.0, loop: bool = True):
        self.ring = FrameRing(int(ring_seconds * rate), rate)
        self.overruns = 0
        self._samples = np.asarray(samples, np.float32)
        self._block = block
        self._loop = loop
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feeder", daemon=True)
        self.failed: str | None = None

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
            idx = np.arange(sent, sent + self._block)
            if not self._loop and sent >= n:
                break
            self.ring.write(self._samples[idx % n], time.monotonic())
            sent += self._block
