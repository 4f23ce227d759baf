"""Reading overlapped with the model: `read_ahead` itself, and folder batches that read the
next files on a thread, giving the same results as without it."""

from __future__ import annotations

import os
import threading
from functools import partial

import numpy as np
import pytest

from ast_core.audio import SAMPLE_RATE
from ast_core.audio.decode import read_into_cache
from ast_core.audio.read_ahead import read_ahead
from ast_core.errors import AudioError
from ast_core.run.batch import Journal, analyse_files, run_batch
from ast_core.run.classifier import Classifier
from tests.support.audio_corpus import write_bad_corpus, write_tone

WAIT_S = 10.0


def test_items_come_in_order_and_are_produced_ahead_within_the_depth():
    produced: list[int] = []
    asked = [threading.Event() for _ in range(12)]

    def source():
        for i in range(10):
            asked[i].set()
            produced.append(i)
            yield i

    it = read_ahead(source(), depth=2)
    assert next(it) == 0
    # while the consumer holds item 0, the thread produces 1 and 2 (the depth), then 3, which
    # waits for room: never more than depth + 1 items beyond what was taken
    assert asked[3].wait(WAIT_S)
    assert not asked[4].wait(0.3)
    assert [next(it) for _ in range(9)] == list(range(1, 10))
    with pytest.raises(StopIteration):
        next(it)
    assert produced == list(range(10))


def test_an_error_is_raised_where_it_happened():
    def source():
        yield "a.wav"
        yield "b.wav"
        raise AudioError("c.wav", "truncated or corrupt")

    it = read_ahead(source())
    assert next(it) == "a.wav" and next(it) == "b.wav"
    with pytest.raises(AudioError, match="c.wav: truncated or corrupt"):
        next(it)


def test_closing_stops_the_thread_and_closes_the_source():
    closed = threading.Event()

    def source():
        try:
            yield from range(1_000_000)
        finally:
            closed.set()

    it = read_ahead(source())
    assert next(it) == 0
    it.close()
    assert closed.wait(WAIT_S)
    assert not any(t.name == "read-ahead" and t.is_alive() for t in _after_join())


def _after_join() -> list[threading.Thread]:
    for t in threading.enumerate():
        if t.name == "read-ahead":
            t.join(WAIT_S)
    return threading.enumerate()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Short clips of different tones and formats (each gets its own scores), bad files between."""
    root = tmp_path_factory.mktemp("read-ahead")
    for i, (freq, ext) in enumerate([(220, "wav"), (880, "flac"), (3000, "ogg"), (440, "mp3"),
                                     (6000, "wav")]):
        write_tone(root / f"clip {i}.{ext}", freq, 1.0, 44_100 if i % 2 else SAMPLE_RATE, 1 + i % 2,
                   format="MP3" if ext == "mp3" else None)
    bad = write_bad_corpus(root / "bad")
    files = sorted(str(p) for p in root.glob("clip *"))
    return files[:2] + [str(bad["text_flac"]), str(bad["missing"])] + files[2:]


def _table(results: list[dict]) -> list[tuple]:
    return [(r["file"], r["error"], [t["label"] for t in r["top"]],
             [round(t["score"], 6) for t in r["top"]]) for r in results]


def test_batch_reads_the_next_file_while_this_one_is_analysed(tiny_model, folder, tmp_path):
    clf = Classifier.load(tiny_model, "cpu", "fp32")
    plain = run_batch(partial(analyse_files, clf), folder, clf.name, prefetch=None)
    fetched: list[str] = []
    fetched_event = {p: threading.Event() for p in folder}

    def prefetch(path: str) -> None:
        read_into_cache(path)
        fetched.append(path)
        fetched_event[path].set()

    def analyse(paths: list[str]) -> list[dict]:
        (path,) = paths
        i = folder.index(path)
        assert fetched_event[path].is_set()
        if i + 1 < len(folder):  # the next file is read during this one's analysis
            assert fetched_event[folder[i + 1]].wait(WAIT_S)
        return analyse_files(clf, paths)

    ahead = run_batch(analyse, folder, clf.name, prefetch=prefetch)
    assert _table(ahead) == _table(plain)
    assert fetched == folder
    errors = [r["error"] for r in ahead if r["error"]]
    assert len(errors) == 2 and "file not found" in errors[1]
    assert len({tuple(r["top"][0].values()) for r in ahead if not r["error"]}) == 5

    # resumed after three files: only the rest are fetched
    journal = Journal(tmp_path / "j.jsonl")
    run_batch(partial(analyse_files, clf), folder[:3], clf.name, journal)
    fetched.clear()
    resumed = run_batch(partial(analyse_files, clf), folder, clf.name, journal, resume=True,
                        prefetch=prefetch)
    assert fetched == folder[3:]
    assert _table(resumed) == _table(plain)


def test_read_into_cache_reads_at_most_its_limit(tmp_path):
    """Through a pipe, so what was read is what the writer could get rid of."""
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    written = 0

    def writer():
        nonlocal written
        with open(fifo, "wb", buffering=0) as f:
            try:
                for _ in range(64):
                    written += f.write(bytes(64 << 10))
            except BrokenPipeError:
                pass

    t = threading.Thread(target=writer)
    t.start()
    read_into_cache(fifo, max_bytes=1 << 20)  # returns once it has read 1 MB
    t.join(WAIT_S)
    assert not t.is_alive()
    assert 1 << 20 <= written < 3 << 20  # the writer stopped (broken pipe) well before 4 MB
    read_into_cache(tmp_path / "missing.wav")  # errors are the decoder's to report
    read_into_cache(tmp_path)


def test_files_scored_together_match_one_by_one_and_resume_by_file(tiny_model, folder, tmp_path):
    """`group` files per call (what GPUs get): same table, long clips and bad files included."""
    long_clip = str(tmp_path / "long.wav")
    write_tone(long_clip, 1000, 3.0, SAMPLE_RATE, 1)  # over the 1.28-s window: scored by windows
    files = [*folder[:3], long_clip, *folder[3:]]
    clf = Classifier.load(tiny_model, "cpu", "fp32")
    one = run_batch(partial(analyse_files, clf), files, clf.name, group=1)
    groups: list[list[str]] = []

    def analyse(paths: list[str]) -> list[dict]:
        groups.append(paths)
        return analyse_files(clf, paths)

    together = run_batch(analyse, files, clf.name, group=3)
    assert groups == [files[0:3], files[3:6], files[6:8]]
    assert [(r["file"], r["error"], r["duration_s"]) for r in together] == [
        (r["file"], r["error"], r["duration_s"]) for r in one
    ]
    for a, b in zip(one, together, strict=True):
        assert [t["label"] for t in a["top"]] == [t["label"] for t in b["top"]]
        assert np.allclose([t["score"] for t in a["top"]], [t["score"] for t in b["top"]],
                           atol=1e-5)
    assert one[3]["duration_s"] == 3.0 and not one[3]["error"]

    # killed during the second group: only the first group was journaled; resume does the rest
    journal = Journal(tmp_path / "j.jsonl")

    def crash_in_second_group(paths: list[str]) -> list[dict]:
        if paths[0] != files[0]:
            raise KeyboardInterrupt
        return analyse_files(clf, paths)

    with pytest.raises(KeyboardInterrupt):
        run_batch(crash_in_second_group, files, clf.name, journal, group=3)
    assert list(journal.load()) == files[:3]
    groups.clear()
    resumed = run_batch(analyse, files, clf.name, journal, resume=True, group=3)
    assert groups == [files[3:6], files[6:8]]
    assert [r["file"] for r in resumed] == files and resumed[:3] == together[:3]
