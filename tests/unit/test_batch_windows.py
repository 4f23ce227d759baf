"""Batch runs (`ast-studio classify`, the Batch dialog) score every file with the one
sliding-window scorer: files of at most one window get `Classifier.predict`'s scores whether
events are asked for or not, and longer files their windows pooled."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from ast_core.audio import SAMPLE_RATE
from ast_core.audio.decode import load_audio
from ast_core.run.batch import EventOptions, analyse_file, analyse_files
from ast_core.run.classifier import Classifier

EVENTS = EventOptions(threshold=0.3)


@pytest.fixture(scope="module")
def clf(tiny_model) -> Classifier:
    return Classifier.load(tiny_model, "cpu", precision="fp32")  # a 1.28-s window


def _hit(path, seconds: float, seed: int) -> str:
    """A drum-like hit: a decaying noise burst, 16-bit WAV."""
    rng = np.random.default_rng(seed)
    n = round(seconds * SAMPLE_RATE)
    x = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.05 * SAMPLE_RATE)) * 0.5
    sf.write(path, x.astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
    return str(path)


@pytest.fixture(scope="module")
def short_clips(tmp_path_factory, clf) -> list[str]:
    """Hits shorter than the model's window, and one exactly one window long."""
    folder = tmp_path_factory.mktemp("hits")
    lengths = [0.12, 0.35, 0.8, clf.window_seconds]
    return [_hit(folder / f"hit {i}.wav", s, seed=i) for i, s in enumerate(lengths)]


def _scores(result: dict, labels: list[str]) -> np.ndarray:
    """A result's top scores as a `(num_labels,)` vector in label order."""
    out = np.full(len(labels), np.nan)
    for t in result["top"]:
        out[labels.index(t["label"])] = t["score"]
    return out


@pytest.mark.parametrize("group", [1, 4])  # one file per pass (CPU), all in one pass (GPU)
def test_short_clips_score_as_predict_with_events_on_and_off(clf, short_clips, group):
    k = len(clf.labels)
    runs = {}
    for name, events in (("off", None), ("on", EVENTS)):
        runs[name] = [r for i in range(0, len(short_clips), group)
                      for r in analyse_files(clf, short_clips[i : i + group], k, events=events)]
    for off, on, path in zip(runs["off"], runs["on"], short_clips, strict=True):
        expected = clf.predict(load_audio(path)).scores
        assert off["error"] is None and on["error"] is None
        np.testing.assert_allclose(_scores(off, clf.labels), expected, atol=1e-5)
        np.testing.assert_allclose(_scores(on, clf.labels), expected, atol=1e-5)
        assert [t["label"] for t in on["top"]] == [t["label"] for t in off["top"]]
        assert "events" in on and "events" not in off
        for e in on["events"]:  # events of a one-window file span that one window
            assert e["start_s"] == 0.0 and e["end_s"] == pytest.approx(on["duration_s"], abs=1e-3)


def test_one_file_at_a_time_gives_the_batched_results(clf, short_clips, tmp_path):
    long = _hit(tmp_path / "long.wav", 3.0, seed=9)
    paths = [*short_clips, long]
    batched = analyse_files(clf, paths, 3, events=EVENTS)
    for path, together in zip(paths, batched, strict=True):
        alone = analyse_file(clf, path, 3, events=EVENTS)
        assert [t["label"] for t in alone["top"]] == [t["label"] for t in together["top"]]
        assert [t["score"] for t in alone["top"]] == pytest.approx(
            [t["score"] for t in together["top"]], abs=1e-5)
        strip = [{k: v for k, v in e.items() if k != "score"} for e in alone["events"]]
        assert strip == [{k: v for k, v in e.items() if k != "score"} for e in together["events"]]
        assert [e["score"] for e in alone["events"]] == pytest.approx(
            [e["score"] for e in together["events"]], abs=1e-5)  # batching moves the last bits


def test_a_long_file_is_its_windows_pooled_with_events_on_and_off(clf, tmp_path):
    path = _hit(tmp_path / "long.wav", 3.0, seed=11)
    k = len(clf.labels)
    ws = clf.score_windows(load_audio(path))
    assert len(ws.starts) == 4  # 1.28-s windows, 0.64-s hop, the last one ending at 3 s
    for events in (None, EVENTS):
        [r] = analyse_files(clf, [path], k, events=events)
        np.testing.assert_allclose(_scores(r, clf.labels), ws.scores.max(axis=0), atol=1e-5)


def test_windows_listed_for_a_short_clip_are_its_one_window(clf, short_clips):
    [r] = analyse_files(clf, short_clips[1:2], len(clf.labels), window_s=clf.window_seconds)
    [w] = r["windows"]
    assert w["start_s"] == 0.0 and w["end_s"] == pytest.approx(0.35)
    assert w["scores"] == r["top"]
