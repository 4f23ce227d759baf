"""Reading overlapped with the model: `read_ahead` itself, and folder batches that read the
next files on a thread, giving the same results as without it."""

from __future__ import annotations

import os
import threading

import pytest

from ast_core.audio import read_into_cache
from ast_core.batch import Journal, analyse_file, run_batch
from ast_core.errors import AudioError
from ast_core.inference import Classifier
from ast_core.read_ahead import read_ahead
from tests.audio_corpus import write_bad_corpus, write_tone

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
        write_tone(root / f"clip {i}.{ext}", freq, 1.0, 44_100 if i % 2 else 16_000, 1 + i % 2,
                   format="MP3" if ext == "mp3" else None)
    bad = write_bad_corpus(root / "bad")
    files = sorted(str(p) for p in root.glob("clip *"))
    return files[:2] + [str(bad["text_flac"]), str(bad["missing"])] + files[2:]


def _table(results: list[dict]) -> list[tuple]:
    return [(r["file"], r["error"], [t["label"] for t in r["top"]],
             [round(t["score"], 6) for t in r["top"]]) for r in results]


def test_batch_reads_the_next_file_while_this_one_is_analysed(tiny_model, folder, tmp_path):
    clf = Classifier.load(tiny_model, "cpu", "fp32")
    plain = run_batch(lambda p: analyse_file(clf, p), folder, clf.name, prefetch=None)
    fetched: list[str] = []
    fetched_event = {p: threading.Event() for p in folder}

    def prefetch(path: str) -> None:
        read_into_cache(path)
        fetched.append(path)
        fetched_event[path].set()

    def analyse(path: str) -> dict:
        i = folder.index(path)
        assert fetched_event[path].is_set()
        if i + 1 < len(folder):  # the next file is read during this one's analysis
            assert fetched_event[folder[i + 1]].wait(WAIT_S)
        return analyse_file(clf, path)

    ahead = run_batch(analyse, folder, clf.name, prefetch=prefetch)
    assert _table(ahead) == _table(plain)
    assert fetched == folder
    errors = [r["error"] for r in ahead if r["error"]]
    assert len(errors) == 2 and "file not found" in errors[1]
    assert len({tuple(r["top"][0].values()) for r in ahead if not r["error"]}) == 5

    # resumed after three files: only the rest are fetched
    journal = Journal(tmp_path / "j.jsonl")
    run_batch(lambda p: analyse_file(clf, p), folder[:3], clf.name, journal)
    fetched.clear()
    resumed = run_batch(lambda p: analyse_file(clf, p), folder, clf.name, journal, resume=True,
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
