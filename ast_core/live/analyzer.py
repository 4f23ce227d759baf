"""`LiveAnalyzer`: at each hop, score the NEWEST window of a ring and report a `LiveResult`.

Never a backlog: hops that passed while an analysis ran are dropped and counted. Times are
`time.monotonic()` seconds. Latency is "capture of the newest analysed sample -> labels ready"
(`latency_ms`); a GUI adds its own drawing time. Real-time factor is analysis time / hop: above
1 the hop cannot be sustained.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from ast_core.audio import SAMPLE_RATE
from ast_core.audio.resample import resample
from ast_core.live.microphone import LiveError
from ast_core.live.ring import FrameRing

STALL_S = 2.0  # no audio for this long while capturing: the device is gone
START_S = 6.0  # ... or for this long after starting


class AudioSource(Protocol):
    """What `LiveAnalyzer` reads (a `MicStream` or `RealTimeFeeder`): a ring, and why capture
    stopped (None while it runs)."""

    ring: FrameRing

    @property
    def failed(self) -> str | None: ...


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
class LiveResult:
    """One live analysis: the labels of the newest window and what it cost."""

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
        self.scorer.score_batch(np.zeros((1, round(self.model_window_s * SAMPLE_RATE)),
                                         np.float32))

    # ------------------------------------------------------------------ the loop
    def results(self, should_stop: Callable[[], bool]) -> Iterator[LiveResult]:
        """Results until `should_stop()`; waits in short sleeps so stopping is prompt.

        Raises `LiveError` when the source fails or no audio arrives for a while.
        """
        last_audio, last_written = time.monotonic(), 0
        while not should_stop():
            reason = self.source.failed
            if reason:
                raise LiveError(reason)
            written = self.source.ring.written
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

    def step(self) -> LiveResult | None:
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
        t_start = time.monotonic()  # the cost includes resampling a device-rate window
        scores = self._score(resample(window, ring.rate))
        ready = time.monotonic()
        return self._report(scores, end, t_end, t_start, ready)

    # ------------------------------------------------------------------ helpers
    def _score(self, window: np.ndarray) -> np.ndarray:
        """Scores (labels,) of a window [n] at SAMPLE_RATE; a window longer than the model's
        is scored as model-length pieces ending at the newest sample, keeping each maximum."""
        piece = round(self.model_window_s * SAMPLE_RATE)
        if len(window) <= piece * 1.05:
            return self.scorer.score_batch(window[None])[0]
        starts = np.unique(np.linspace(len(window) - piece, 0, math.ceil(len(window) / piece))
                           .round().astype(int))
        return self.scorer.score_batch(np.stack([window[s : s + piece] for s in starts])).max(0)

    def _report(self, scores: np.ndarray, end: int, t_end: float, t_start: float,
                ready: float) -> LiveResult:
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
        result = LiveResult(self.count, time_s, t_end, ready, analysis_ms,
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
