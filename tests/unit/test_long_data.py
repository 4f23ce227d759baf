"""What the long-recording workers compute, without Qt: the one-pass overview, detail read by
seeking, the read-ahead stream for playback, and saving as WAV block by block."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import soundfile as sf

from app.gui.long import long_data
from app.gui.long.long_data import LongFile, Progress
from app.gui.widgets.file_stream import FileStream
from ast_core.audio import SAMPLE_RATE, decode
from ast_core.audio.decode import load_audio
from ast_core.audio.features import FbankConfig
from ast_core.errors import AudioError
from ast_core.run.classifier import Cancelled
from tests.support.gui_helpers import join_reader


@pytest.fixture(scope="module")
def flac(tmp_path_factory):
    """Two minutes of a tone with noise and a few clicks, 44.1 kHz stereo FLAC."""
    rate, n = 44100, 120 * 44100
    rng = np.random.default_rng(5)
    x = 0.2 * np.sin(2 * np.pi * 440 * np.arange(n) / rate) + 0.02 * rng.standard_normal(n)
    x[rng.integers(0, n, 12)] = 0.9
    path = tmp_path_factory.mktemp("long data") / "two minutes.flac"
    sf.write(path, np.stack([x, 0.5 * x], axis=1).astype(np.float32), rate)
    return path


@pytest.fixture
def frames_read(monkeypatch):
    """Frames libsndfile decoded, read by read."""
    reads: list[int] = []
    read = decode._SequentialFile.read

    def spy(self, *args, **kwargs):
        out = read(self, *args, **kwargs)
        reads.append(len(out))
        return out

    monkeypatch.setattr(decode._SequentialFile, "read", spy)
    return reads


def test_overview_reads_the_file_once(flac, monkeypatch, frames_read):
    monkeypatch.setattr(long_data, "OVERVIEW_FRAMES", 500)
    monkeypatch.setattr(long_data, "ENVELOPE_POINTS", 1000)
    passes = []
    iter_blocks = decode.iter_blocks
    monkeypatch.setattr(decode, "iter_blocks",
                        lambda *a, **k: passes.append(a) or iter_blocks(*a, **k))
    worker = long_data.overview(LongFile(str(flac), flac.name, 120.0), None)
    progress = []
    with pytest.raises(StopIteration) as done:
        while True:
            progress.append(next(worker))
    spec, env = done.value.value
    assert len(passes) == 1 and sum(frames_read) == 120 * 44100
    assert progress[-1] == 1.0 and np.all(np.diff(progress) >= 0)

    whole = load_audio(flac)
    bucket = int(np.ceil(len(whole) / 1000))  # 120 s * 16 kHz / 1000 points
    lo = [whole[i : i + bucket].min() for i in range(0, len(whole), bucket)]
    hi = [whole[i : i + bucket].max() for i in range(0, len(whole), bucket)]
    np.testing.assert_allclose(env.y, np.stack([lo, hi], axis=1).ravel(), atol=1e-5)
    assert env.peak == pytest.approx(max(-min(lo), max(hi)), abs=1e-5)

    frames = long_data._frames(whole, FbankConfig())  # 10-ms frames of the whole file
    pool = 12000 // 500
    n = len(frames) // pool * pool
    expected = frames[:n].reshape(-1, pool, 128).max(axis=1) * long_data.LN_TO_DB
    assert spec.frame_shift_s == pytest.approx(0.01 * pool)
    np.testing.assert_allclose(spec.db[: len(expected)], expected, atol=0.05)


def test_detail_seeks_to_the_range(flac, frames_read):
    whole = load_audio(flac)
    frames_read.clear()
    d = long_data.detail(LongFile(str(flac), flac.name, 120.0), None, 100.004, 102.0)
    assert sum(frames_read) < 2.1 * 44100  # the range (and resampler context), not 102 s
    assert d.offset_s == pytest.approx(100.0)
    expected = long_data._frames(whole[100 * SAMPLE_RATE : 102 * SAMPLE_RATE], FbankConfig())
    assert d.spectrogram.db.shape == expected.shape == (198, 128)
    np.testing.assert_allclose(d.spectrogram.db, expected * long_data.LN_TO_DB, atol=1e-3)


def _drain(stream: FileStream, frames: int = 1000, timeout: float = 30.0) -> np.ndarray:
    """Take frames as a sound card would until the stream ends (silence while it is behind)."""
    out, deadline = [], time.monotonic() + timeout
    while not stream.finished:
        assert time.monotonic() < deadline
        chunk = stream.read(frames)
        out.append(chunk.copy())
        if len(chunk) < frames:
            time.sleep(0.001)
    return np.concatenate(out)


def test_file_stream_plays_the_rest_of_the_file_reading_ahead_in_chunks(flac):
    calls: list[tuple[float, float, str]] = []
    ahead: list[int] = []

    def read(path, start_s, seconds, rate):
        calls.append((start_s, seconds, threading.current_thread().name))
        ahead.append(stream._queued - stream._taken)
        return decode.read_range(path, start_s, seconds, rate)

    stream = FileStream(str(flac), 95.25, chunk_s=2.0, ahead_s=5.0, read=read)
    got = _drain(stream.start())
    assert join_reader(stream, 5) and stream.error is None
    np.testing.assert_allclose(got, load_audio(flac)[round(95.25 * SAMPLE_RATE) :], atol=1e-5)
    assert [c[0] for c in calls] == pytest.approx([95.25 + 2 * i for i in range(len(calls))])
    assert len(calls) == 13 and all(c[2] == "file-stream" for c in calls)
    assert max(ahead) < 5 * SAMPLE_RATE  # never more than `ahead_s` read ahead of the player


def test_file_stream_stops_on_close_and_reports_errors(flac, tmp_path):
    stream = FileStream(str(flac), 0.0, chunk_s=1.0, ahead_s=2.0).start()
    time.sleep(0.3)
    stream.close()
    assert join_reader(stream, 5) and stream.finished is False  # read ahead, never taken
    assert stream._queued <= 3 * SAMPLE_RATE

    missing = FileStream(str(tmp_path / "gone.wav"), 0.0).start()
    assert join_reader(missing, 5) and missing.finished and len(missing.read(100)) == 0
    assert isinstance(missing.error, AudioError) and "gone.wav" in str(missing.error)


def test_save_wav_writes_blocks_and_cancel_leaves_nothing(flac, tmp_path):
    lf = LongFile(str(flac), flac.name, 120.0)
    progress = Progress(120.0)
    out = tmp_path / "saved.wav"
    assert long_data.save_wav(lf, str(out), progress) == str(out)
    back, rate = sf.read(out, dtype="float32")
    assert rate == SAMPLE_RATE and progress.fraction == pytest.approx(1.0)
    np.testing.assert_allclose(back, load_audio(flac), atol=1 / 32768 + 1e-6)

    cancelled = Progress(120.0)
    cancelled.cancel()
    with pytest.raises(Cancelled):
        long_data.save_wav(lf, str(tmp_path / "never.wav"), cancelled)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved.wav"]
