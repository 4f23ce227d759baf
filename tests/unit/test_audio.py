"""ast_core.audio.decode on real files: formats, resampling, streaming, bad input, saving."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio.functional as taf

from ast_core.audio import SAMPLE_RATE, decode
from ast_core.audio.decode import (
    AudioInfo,
    is_audio_path,
    iter_blocks,
    load_audio,
    probe,
    save_wav,
    save_wav_blocks,
)
from ast_core.errors import AudioError
from tests.support.audio_corpus import (
    BAD_CASES,
    MATRIX_FREQ,
    MATRIX_NAMES,
    MATRIX_SECONDS,
    matrix_params,
    speak,
    write_bad_corpus,
    write_format_matrix,
    write_noisy_tone,
    write_tone,
)

LOSSY = (".mp3", ".ogg", ".oga", ".opus")
DECODE_TIME_CASES = {"nan_float", "inf_float", "truncated_flac", "truncated_mp3"}


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> dict[str, os.PathLike]:
    return {p.name: p for p in write_format_matrix(tmp_path_factory.mktemp("matrix"))}


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> dict[str, os.PathLike]:
    return write_bad_corpus(tmp_path_factory.mktemp("bad corpus"))


def dominant_hz(x: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


def concat_blocks(path, block_seconds: float) -> tuple[np.ndarray, int]:
    blocks = list(iter_blocks(path, block_seconds))
    assert all(b.dtype == np.float32 and b.ndim == 1 for b in blocks)
    return np.concatenate(blocks), len(blocks)


# --- format matrix -------------------------------------------------------------------------


@pytest.mark.parametrize("name", MATRIX_NAMES)
def test_matrix_file_loads_as_mono_16k_tone(matrix, name):
    if name not in matrix:
        pytest.skip("sox is not installed")
    path = matrix[name]
    rate, channels = matrix_params(path)
    lossy = path.suffix.lower() in LOSSY
    info = probe(path)
    assert (info.sample_rate, info.channels, info.path) == (rate, channels, str(path))
    assert abs(info.frames - rate * MATRIX_SECONDS) <= (0.05 * rate if lossy else 0)
    assert info.duration_s == pytest.approx(info.frames / rate)

    x = load_audio(path)
    assert x.dtype == np.float32 and x.ndim == 1
    expected_len = SAMPLE_RATE * MATRIX_SECONDS
    assert abs(len(x) - expected_len) <= (800 if lossy else 1)
    assert dominant_hz(x) == pytest.approx(MATRIX_FREQ, abs=1.0)
    # write_tone gives channel c the amplitude 0.5 (c + 1) / channels: the mean is their mean
    amp = 0.5 * (channels + 1) / (2 * channels)
    if path.name.startswith("sox"):
        amp = 10 ** (-6 / 20)  # sox: full scale, "gain -6", same tone in both channels
    core = x[1000:-1000]
    rms = float(np.sqrt(np.mean(core.astype(np.float64) ** 2)))
    assert rms == pytest.approx(amp / np.sqrt(2), rel=0.1 if lossy else 0.02)


def test_stereo_downmix_is_the_channel_mean(tmp_path):
    t = np.arange(16000) / 16000
    left, right = np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 1000 * t + 1)
    path = tmp_path / "lr.wav"
    sf.write(path, np.stack([left, right], axis=1).astype(np.float32), 16000, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path), (left + right) / 2, atol=1e-6)


def test_resampling_equals_torchaudio_on_the_same_data(tmp_path):
    rng = np.random.default_rng(0)
    data = (0.3 * rng.standard_normal((44100, 3))).astype(np.float32)
    path = tmp_path / "noise 44k1 3ch.wav"
    sf.write(path, data, 44100, subtype="FLOAT")
    expected = taf.resample(torch.from_numpy(data.mean(axis=1)), 44100, 16000).numpy()
    got = load_audio(path)
    assert len(got) == 16000
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_48k_file_loads_to_the_expected_length(tmp_path):
    path = write_tone(tmp_path / "t48.wav", seconds=2.5, rate=48000)
    assert len(load_audio(path)) == 40000
    assert len(load_audio(path, target_rate=8000)) == 20000
    assert len(load_audio(path, target_rate=48000)) == 120000


# --- streaming ---------------------------------------------------------------------------


def test_iter_blocks_of_long_44k1_stereo_file_equal_load_audio(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    n = 70 * 44100 + 123
    noise = 0.1 * rng.standard_normal((n, 2))
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / 44100)[:, None]
    path = tmp_path / "long.wav"
    sf.write(path, (noise + tone).astype(np.float32), 44100, subtype="PCM_16")
    whole = load_audio(path)

    reads: list[int] = []
    read = decode._SequentialFile.read

    def spy(self, frames=-1, *args, **kwargs):
        reads.append(frames)
        return read(self, frames, *args, **kwargs)

    monkeypatch.setattr(decode._SequentialFile, "read", spy)
    monkeypatch.setattr(decode, "load_audio", None)  # streaming must not fall back to it
    streamed, count = concat_blocks(path, 7.3)
    assert count == 10 and len(streamed) == len(whole) == -(-n * 160 // 441)
    assert np.abs(streamed - whole).max() <= 1e-4
    assert 0 < max(reads) <= 8 * 44100  # never asked for the whole file


def test_iter_blocks_without_resampling_are_exact(tmp_path):
    path = write_tone(tmp_path / "t16.flac", seconds=5.0, rate=16000, channels=2)
    streamed, count = concat_blocks(path, 1.5)
    assert count == 4
    np.testing.assert_array_equal(streamed, load_audio(path))


@pytest.mark.parametrize(
    "name, block_seconds",
    [("tone 8000Hz 1ch pcm16.wav", 0.3), ("tone 11025Hz 1ch u8.wav", 0.3),
     ("tone 192000Hz 6ch.flac", 0.3), ("tone 44100Hz 2ch.mp3", 0.3),
     ("tone 48000Hz 1ch.opus", 0.3), ("tone 22050Hz 1ch vorbis.oga", 0.3),
     ("tone 44100Hz 2ch.mp3", 0.001), ("tone 11025Hz 1ch u8.wav", 0.001)],  # block = context
)
def test_iter_blocks_match_load_audio_across_rates_and_codecs(matrix, name, block_seconds):
    streamed, count = concat_blocks(matrix[name], block_seconds)
    whole = load_audio(matrix[name])
    assert count > 1 and len(streamed) == len(whole)
    assert np.abs(streamed - whole).max() <= 1e-4


# --- ranges ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_corpus(bad, case):
    path, expected = bad[case], BAD_CASES[case]
    if expected == "valid":
        x = load_audio(path)
        assert x.dtype == np.float32 and x.ndim == 1 and len(x) >= 1
        np.testing.assert_allclose(np.concatenate(list(iter_blocks(path))), x, atol=1e-4)
        assert isinstance(probe(path), AudioInfo)
        return
    for read in (load_audio, lambda p: list(iter_blocks(p, 0.25))):
        with pytest.raises(AudioError) as err:
            read(path)
        assert path.name in str(err.value) and expected in str(err.value)
        assert err.value.path == str(path) and expected in err.value.reason
        assert "\n" not in str(err.value)
    if case in DECODE_TIME_CASES:  # found only by decoding; the header is fine
        assert probe(path).frames > 0
    else:
        with pytest.raises(AudioError, match=expected.replace("(", r"\(").replace(")", r"\)")):
            probe(path)


def test_one_sample_file_decodes_to_a_short_array(bad):
    x = load_audio(bad["one_sample"])
    assert x.shape == (1,) and x[0] == pytest.approx(0.25, abs=1e-4)


def test_broken_link_and_fifo(tmp_path):
    (tmp_path / "gone.wav").symlink_to(tmp_path / "nowhere.wav")
    with pytest.raises(AudioError, match="gone.wav: file not found"):
        load_audio(tmp_path / "gone.wav")
    os.mkfifo(tmp_path / "pipe.wav")  # opening it would block: must be refused up front
    with pytest.raises(AudioError, match="pipe.wav: not a regular file"):
        load_audio(tmp_path / "pipe.wav")


def test_unreadable_file_is_permission_denied(tmp_path, monkeypatch):
    path = write_tone(tmp_path / "locked.wav", seconds=0.1)
    path.chmod(0)
    if os.geteuid() == 0:  # root reads it anyway: make the module's open() fail as it would

        def denied(*args, **kwargs):
            raise PermissionError(13, "Permission denied", str(path))

        monkeypatch.setattr(decode, "open", denied, raising=False)
    for read in (load_audio, probe, lambda p: list(iter_blocks(p))):
        with pytest.raises(AudioError, match="locked.wav: permission denied"):
            read(path)


# --- saving ------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 2])
def test_save_wav_round_trip(tmp_path, channels):
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (8000, channels)).astype(np.float32)
    x = x[:, 0] if channels == 1 else x
    path = tmp_path / "out.wav"
    path.write_bytes(b"old content")  # replaced, not appended to
    save_wav(path, x, 16000)
    info = sf.info(path)
    assert (info.format, info.subtype, info.samplerate, info.channels) == (
        "WAV", "PCM_16", 16000, channels)
    back, _ = sf.read(path, dtype="float32")
    np.testing.assert_allclose(back, x, atol=1.0 / 32768 + 1e-7)
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]


def test_save_wav_clips_out_of_range(tmp_path):
    path = tmp_path / "loud.wav"
    save_wav(path, np.array([2.0, -3.0, 0.5], np.float32))
    back, _ = sf.read(path, dtype="int16")
    assert back.tolist() == [32767, -32768, 16384]


def test_save_wav_into_missing_folder_creates_nothing(tmp_path):
    target = tmp_path / "no such dir" / "x.wav"
    with pytest.raises(AudioError, match="x.wav"):
        save_wav(target, np.zeros(10, np.float32))
    assert not target.parent.exists()


def test_failed_save_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "keep.wav"
    target.write_bytes(b"previous export")

    def broken_write(file, data, *args, **kwargs):
        file.write(b"RIFF partial")
        raise sf.LibsndfileError(2, prefix="Error writing: ")

    monkeypatch.setattr(decode.sf, "write", broken_write)
    with pytest.raises(AudioError, match="keep.wav"):
        save_wav(target, np.zeros(10, np.float32))
    assert target.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.wav"]


def test_save_wav_rejects_non_finite_samples(tmp_path):
    with pytest.raises(ValueError):
        save_wav(tmp_path / "nan.wav", np.array([0.0, np.nan], np.float32))
    assert not any(tmp_path.iterdir())


def test_save_wav_blocks_writes_a_long_file_block_by_block(tmp_path, monkeypatch):
    src = write_noisy_tone(tmp_path / "source.flac", 12.0, 44100, 2)
    target = tmp_path / "copy.wav"
    target.write_bytes(b"old")
    sizes: list[int] = []

    def blocks():
        for block in iter_blocks(src, block_seconds=2.0):
            sizes.append(len(block))
            yield block

    assert save_wav_blocks(target, blocks()) == target
    back, rate = sf.read(target, dtype="float32")
    assert rate == SAMPLE_RATE and sf.info(target).subtype == "PCM_16" and len(sizes) == 6
    np.testing.assert_allclose(back, load_audio(src), atol=1 / 32768 + 1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.wav", "source.flac"]


def test_save_wav_blocks_failing_midway_keeps_the_old_file(tmp_path, bad):
    target = tmp_path / "keep.wav"
    target.write_bytes(b"previous export")

    def blocks():
        yield np.zeros(16000, np.float32)
        yield from iter_blocks(bad["truncated_flac"])  # fails while decoding

    with pytest.raises(AudioError, match="truncated.flac: truncated or corrupt"):
        save_wav_blocks(target, blocks())
    assert target.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.wav"]
    with pytest.raises(AudioError, match="cannot write WAV"):
        save_wav_blocks(tmp_path / "keep.wav" / "x.wav", [np.zeros(10, np.float32)])


# --- names and helpers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, ok",
    [("a.wav", True), ("B.FLAC", True), ("c d.Mp3", True), ("x.opus", True), ("y.oga", True),
     ("z.aif", True), ("z.AIFF", True), ("s.au", True), ("n.ogg", True), ("t.txt", False),
     ("wav", False), (".wav.bak", False), ("noext", False)],
)
def test_is_audio_path(name, ok):
    assert is_audio_path(name) is ok


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_spoken_words_load(tmp_path):
    x = load_audio(speak(tmp_path / "yes.wav", "yes"))
    assert 0.2 * SAMPLE_RATE < len(x) < 2 * SAMPLE_RATE and np.abs(x).max() > 0.05


def test_odd_sample_rate_resamples_without_a_giant_kernel(tmp_path):
    import resource

    rate = 44101  # gcd with 16 kHz is 1: an exact kernel would need gigabytes
    t = np.arange(rate * 2) / rate
    sf.write(tmp_path / "odd.wav", (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    y = load_audio(tmp_path / "odd.wav")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB
    assert abs(len(y) - 32000) <= 2
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) * 16000 / len(y) - 440) < 1.0
