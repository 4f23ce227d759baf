"""What the workers compute for a long recording, as plain numpy results (no Qt, no tensors out).

A long recording is never decoded whole here: the overview spectrogram and waveform envelope
are computed in one pass over the blocks at reduced time resolution (max over groups of 10-ms
frames, so short sounds stay visible), full-resolution detail only for the range on screen
(seeking there with `read_range`), scores with the core's streaming `Classifier.score_blocks`
(the same sliding-window scorer as the window and `ast-studio classify`), "Save as WAV" block
by block. Memory is bounded by a block, not the file.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.gui.widgets.audio_data import LN_TO_DB, Clip, Envelope, Spectrogram, decode
from ast_core.audio import SAMPLE_RATE
from ast_core.run.windows import WindowScores

LONG_SECONDS = 600.0  # files longer than this open as long recordings
OVERVIEW_FRAMES = 6000  # columns of the overview image at most
ENVELOPE_POINTS = 20_000  # buckets of the overview waveform at most
DETAIL_MAX_S = 180.0  # full-resolution detail is computed when at most this much is on screen


@dataclass(frozen=True)
class LongFile:
    path: str
    name: str
    duration_s: float


@dataclass
class Detail:
    offset_s: float
    spectrogram: Spectrogram


@dataclass
class Scores:
    windows: WindowScores
    labels: list[str]
    top: list[str]  # the file's top labels, best clip score (pooled as the core does) first
    window_s: float
    hop_s: float
    seconds: float  # how long the scan took


class Progress:
    """Shared between a worker and a GUI timer: seconds of audio done, and a cancel flag."""

    def __init__(self, total_s: float):
        self.total_s = max(total_s, 1e-9)
        self.done_s = 0.0
        self._cancel = threading.Event()

    @property
    def fraction(self) -> float:
        return min(1.0, self.done_s / self.total_s)

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()


def open_any(path: str | Path) -> Clip | LongFile:
    """A short file decoded whole (a `Clip`), or a long one only probed (a `LongFile`)."""
    from ast_core.audio.decode import probe

    info = probe(path)
    if info.duration_s > LONG_SECONDS:
        return LongFile(str(path), Path(path).name, info.duration_s)
    return decode(path)


def _fbank_config(classifier: Any | None) -> Any:
    from ast_core.audio.features import FbankConfig

    return classifier.fbank if classifier is not None else FbankConfig()


class _Pool:
    """Reduce rows in consecutive groups of `size` as they stream in; the rest waits for more."""

    def __init__(self, size: int, reduce: Callable[[np.ndarray], np.ndarray]):
        self.size, self.reduce, self.rest = size, reduce, None

    def feed(self, rows: np.ndarray, last: bool = False) -> np.ndarray:
        if self.rest is not None:
            rows = np.concatenate([self.rest, rows])
        n = len(rows) // self.size * self.size
        out = self.reduce(rows[:n].reshape(-1, self.size, *rows.shape[1:]))
        self.rest = rows[n:]
        if last and len(self.rest):
            out = np.concatenate([out, self.reduce(self.rest[None])])
            self.rest = None
        return out


def _frames(samples: np.ndarray, cfg: Any) -> np.ndarray:
    """kaldi fbank (natural log) of `samples`, `(n,) -> (frames, mels)`."""
    import torch

    from ast_core.audio.features import compute_fbank

    with torch.inference_mode():
        return compute_fbank(torch.from_numpy(np.ascontiguousarray(samples))[None], cfg)[0].numpy()


def _stream_frames(blocks: Iterator[np.ndarray], cfg: Any) -> Iterator[tuple[np.ndarray, int]]:
    """(fbank frames, samples consumed) per block, on the whole file's 10-ms frame grid."""
    shift = round(cfg.sample_rate * cfg.frame_shift_ms / 1000)
    length = round(cfg.sample_rate * cfg.frame_length_ms / 1000)
    carry = np.zeros(0, np.float32)
    for block in blocks:
        buf = np.concatenate([carry, block])
        n = (len(buf) - length) // shift + 1 if len(buf) >= length else 0
        if n:
            yield _frames(buf[: (n - 1) * shift + length], cfg), len(block)
        else:
            yield np.zeros((0, cfg.num_mel_bins), np.float32), len(block)
        carry = buf[n * shift :]


def overview(lf: LongFile, classifier: Any | None) -> Iterator[float]:
    """Generator worker: yields progress in [0, 1]; returns `(Spectrogram, Envelope)`.

    One pass over the blocks: each overview column is the max (in dB) of `pool` consecutive
    10-ms frames, each envelope bucket the min and max of its samples.
    """
    from ast_core.audio.decode import iter_blocks

    cfg = _fbank_config(classifier)
    shift_s = cfg.frame_shift_ms / 1000
    pool = max(1, math.ceil(lf.duration_s / shift_s / OVERVIEW_FRAMES))
    bucket = max(1, math.ceil(lf.duration_s * SAMPLE_RATE / ENVELOPE_POINTS))
    spec_pool = _Pool(pool, lambda x: x.max(axis=1))
    lo_pool = _Pool(bucket, lambda x: x.min(axis=1))
    hi_pool = _Pool(bucket, lambda x: x.max(axis=1))
    cols, lows, highs, done = [], [], [], 0

    def enveloped() -> Iterator[np.ndarray]:  # the envelope taken on the way to the fbank
        for block in iter_blocks(lf.path):
            lows.append(lo_pool.feed(block))
            highs.append(hi_pool.feed(block))
            yield block

    for frames, n in _stream_frames(enveloped(), cfg):
        cols.append(spec_pool.feed(frames))
        done += n
        yield min(0.99, done / SAMPLE_RATE / lf.duration_s)
    db = np.concatenate(cols + [spec_pool.feed(np.zeros((0, cfg.num_mel_bins)), last=True)])
    lo = np.concatenate(lows + [lo_pool.feed(np.zeros(0, np.float32), last=True)])
    hi = np.concatenate(highs + [hi_pool.feed(np.zeros(0, np.float32), last=True)])
    t = np.repeat(np.arange(len(lo)) * bucket, 2) + np.tile([0, bucket // 2], len(lo))
    t = t / SAMPLE_RATE
    env = Envelope(t, np.stack([lo, hi], axis=1).ravel(), float(max(-lo.min(), hi.max())))
    yield 1.0
    spec = Spectrogram((db * LN_TO_DB).astype(np.float32), shift_s * pool, cfg.num_mel_bins)
    return spec, env


def detail(lf: LongFile, classifier: Any | None, start_s: float, end_s: float) -> Detail:
    """Full-resolution spectrogram of `[start_s, end_s]`, its frames on the file's frame grid."""
    from ast_core.audio.decode import read_range

    cfg = _fbank_config(classifier)
    shift_s = cfg.frame_shift_ms / 1000
    start_s = min(max(0.0, math.floor(start_s / shift_s) * shift_s), lf.duration_s)
    samples = read_range(lf.path, start_s, max(0.0, min(end_s, lf.duration_s) - start_s))
    if len(samples) < round(cfg.sample_rate * cfg.frame_length_ms / 1000):
        frames = np.zeros((0, cfg.num_mel_bins), np.float32)
    else:
        frames = _frames(samples, cfg)
    return Detail(start_s, Spectrogram(frames * LN_TO_DB, shift_s, cfg.num_mel_bins))


def score(
    classifier: Any,
    lf: LongFile,
    window_s: float | None,
    hop_s: float | None,
    progress: Progress,
    top_k: int = 5,
) -> Scores:
    """Per-window scores of the whole file (streamed; raises `Cancelled` when cancelled).

    `window_s`/`hop_s` None: the core's defaults (the model's window, half-window hop).
    """
    import time

    from ast_core.audio.decode import iter_blocks

    window_s, hop_s = classifier.window_and_hop(window_s, hop_s)

    def counted() -> Iterator[np.ndarray]:
        for block in iter_blocks(lf.path):
            yield block
            progress.done_s += len(block) / SAMPLE_RATE

    t0 = time.perf_counter()
    ws = classifier.score_blocks(counted(), window_s, hop_s, cancelled=progress.cancelled)
    best = ws.pooled(classifier.label_mode)
    top = [classifier.labels[i] for i in np.argsort(-best, kind="stable")[:top_k]]
    return Scores(ws, list(classifier.labels), top, window_s, hop_s, time.perf_counter() - t0)


def save_wav(lf: LongFile, path: str, progress: Progress) -> str:
    """Write the file as a 16-kHz mono 16-bit WAV (what the app analyses), block by block into
    a temporary file that replaces `path` at the end; raises `Cancelled` when cancelled."""
    from ast_core.audio.decode import iter_blocks, save_wav_blocks
    from ast_core.run.classifier import Cancelled

    def counted() -> Iterator[np.ndarray]:
        for block in iter_blocks(lf.path):
            if progress.cancelled():
                raise Cancelled(f"saving {lf.name} was cancelled")
            yield block
            progress.done_s += len(block) / SAMPLE_RATE

    return str(save_wav_blocks(path, counted(), SAMPLE_RATE))


def find_events(scores: Scores, threshold: float, min_duration_s: float, merge_gap_s: float):
    """Events (ast_core `Event`s) of every label from the window scores."""
    from ast_core.run.events import detect_events

    w = scores.windows
    return detect_events(w.starts, w.ends, w.scores, scores.labels, threshold, min_duration_s,
                         merge_gap_s)


def write_events(path: str, events: list, fmt: str) -> str:
    from ast_core.run.exports import write_events as write

    return str(write(path, events, fmt))
