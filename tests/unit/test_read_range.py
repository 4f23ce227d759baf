"""`read_range` (the player's and the long view's seek): equal to the slice of a whole decode."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

from ast_core.audio import SAMPLE_RATE, decode
from ast_core.audio.decode import (
    load_audio,
    read_range,
)
from ast_core.errors import AudioError
from tests.support.audio_corpus import (
    BAD_CASES,
    write_bad_corpus,
    write_noisy_tone,
    write_tone,
)


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> dict[str, os.PathLike]:
    return write_bad_corpus(tmp_path_factory.mktemp("bad corpus"))



def _check_ranges(path, starts, seconds: float = 0.5, atol: float = 1e-5) -> None:
    """read_range equals the slice of load_audio at every start (and at the very end)."""
    whole = load_audio(path)
    end = len(whole) / SAMPLE_RATE
    for start in [*starts, end - 0.3, end - 0.001, end]:
        got = read_range(path, start, seconds)
        a = round(start * SAMPLE_RATE)
        want = whole[a : a + round(seconds * SAMPLE_RATE)]
        assert got.dtype == np.float32 and got.shape == want.shape, (start, got.shape)
        if len(want):
            assert np.abs(got - want).max() <= atol, (start, np.abs(got - want).max())


RANGE_STARTS = [0.0, 0.00006, 1.0, 2.3456, 7.7, 11.02, 14.5, 17.3]


@pytest.mark.parametrize(
    "name, rate, channels, kwargs",
    [("pcm16 16k.wav", 16000, 1, {"subtype": "PCM_16"}),
     ("pcm24 44k1 stereo.wav", 44100, 2, {"subtype": "PCM_24"}),
     ("odd rate 44101.wav", 44101, 1, {"subtype": "FLOAT"}),
     ("16k.flac", 16000, 1, {}),
     ("48k stereo.flac", 48000, 2, {}),
     ("44k1 stereo.mp3", 44100, 2, {"format": "MP3"}),
     ("11k025 mono.mp3", 11025, 1, {"format": "MP3"}),
     # lowest bitrates (8 and 32 kbps): the bit reservoir reaches back several frames, which
     # mpg123 decodes wrongly right after a seek
     ("16k 8kbps.mp3", 16000, 1, {"format": "MP3", "compression_level": 0.99,
                                  "bitrate_mode": "CONSTANT"}),
     ("48k 32kbps.mp3", 48000, 1, {"format": "MP3", "compression_level": 0.99,
                                   "bitrate_mode": "CONSTANT"}),
     ("44k1 stereo vorbis.ogg", 44100, 2, {"subtype": "VORBIS"}),
     ("22k05 mono vorbis.ogg", 22050, 1, {"subtype": "VORBIS"}),
     ("48k opus.opus", 48000, 1, {"format": "OGG", "subtype": "OPUS"})],
)
def test_read_range_equals_the_slice_of_load_audio(tmp_path, name, rate, channels, kwargs):
    path = write_noisy_tone(tmp_path / name, 20.0, rate, channels, **kwargs)
    _check_ranges(path, RANGE_STARTS)
    if rate == SAMPLE_RATE and not name.endswith(".mp3"):  # no resampling: bit-exact
        np.testing.assert_array_equal(read_range(path, 3.21, 2.0),
                                      load_audio(path)[51360 : 51360 + 32000])


def test_read_range_in_the_last_ogg_page(tmp_path):
    """The file is longer than `_OGG_LAST_PAGE`: seeks near the end would land a few samples off."""
    path = write_noisy_tone(tmp_path / "long vorbis.ogg", 50.0, 22050, 1, subtype="VORBIS")
    assert sf.info(path).frames > decode._OGG_LAST_PAGE
    _check_ranges(path, [10.0, 49.2, 49.5, 49.8], seconds=0.05)


def test_read_range_seeks_instead_of_decoding_from_the_start(tmp_path, monkeypatch):
    path = write_noisy_tone(tmp_path / "minute.flac", 60.0, 44100, 2)
    whole = load_audio(path)
    reads: list[int] = []
    seeks: list[int] = []
    read, seek = decode._SequentialFile.read, decode._SequentialFile.seek
    monkeypatch.setattr(decode._SequentialFile, "read",
                        lambda self, n=-1, *a, **k: reads.append(n) or read(self, n, *a, **k))
    monkeypatch.setattr(decode._SequentialFile, "seek",
                        lambda self, n, *a: seeks.append(n) or seek(self, n, *a))
    got = read_range(path, 50.0, 2.0)
    assert seeks and 50 * 44100 - 1000 < seeks[0] <= 50 * 44100  # minus the resampler context
    assert 2 * 44100 <= sum(reads) < 2 * 44100 + 2000  # the range and its context, no more
    np.testing.assert_allclose(got, whole[800_000:832_000], atol=1e-5)

    # a file libsndfile cannot seek in is decoded from the start, with the same result
    reads.clear()
    seeks.clear()
    monkeypatch.setattr(decode.sf.SoundFile, "seekable", lambda self: False)
    np.testing.assert_allclose(read_range(path, 50.0, 2.0), got, atol=1e-6)
    assert not seeks and sum(reads) >= 52 * 44100


@pytest.mark.parametrize(
    "start, seconds, reason",
    [(-1.0, 1.0, ">= 0"), (1.0, -0.5, ">= 0"), (float("nan"), 1.0, "finite"),
     (0.0, float("inf"), "finite"), (3.5, 1.0, "only 3 s long")],
)
def test_read_range_rejects_bad_ranges(tmp_path, start, seconds, reason):
    path = write_tone(tmp_path / "three.wav", seconds=3.0)
    with pytest.raises(AudioError, match=reason) as err:
        read_range(path, start, seconds)
    assert err.value.path == str(path)
    assert read_range(path, 3.0, 1.0).shape == (0,)  # the end itself: nothing left
    assert read_range(path, 1.0, 0.0).shape == (0,)


@pytest.mark.parametrize(
    "case, start",  # the NaN is at 62.5 ms; the cut WAV's data ends at about 1 s of 2
    [("missing", 0.0), ("directory", 0.0), ("empty", 0.0), ("random_mp3", 0.0),
     ("truncated_wav", 0.9), ("nan_float", 0.05)],
)
def test_read_range_of_bad_files(bad, case, start):
    with pytest.raises(AudioError, match=BAD_CASES[case].split(" (")[0]) as err:
        read_range(bad[case], start, 0.5)
    assert err.value.path == str(bad[case])


# --- bad input ---------------------------------------------------------------------------
