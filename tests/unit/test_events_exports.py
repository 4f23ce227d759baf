"""Events from window scores, exports that parse back, journaled batches that resume."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from ast_core.errors import AudioError
from ast_core.run.batch import Journal, find_audio, run_batch
from ast_core.run.events import Event, detect_events, stretch_scores
from ast_core.run.exports import RAVEN_COLUMNS, SUFFIXES, write_events


def _windows(total: float, win: float, hop: float):
    starts = np.arange(0, total - win + 1e-9, hop)
    return starts, starts + win


def test_an_event_is_localised_to_within_one_hop():
    starts, ends = _windows(60.0, 10.0, 5.0)
    # a sound from 31 to 33 s makes exactly the windows containing it fire
    fires = (starts < 33) & (ends > 31)
    scores = np.where(fires, 0.9, 0.1)[:, None].astype(np.float32)
    [e] = detect_events(starts, ends, scores, ["bark"], threshold=0.5)
    assert e.label == "bark" and e.score == pytest.approx(0.9)
    assert abs(e.start_s - 31) <= 5 and abs(e.end_s - 33) <= 5
    assert (e.start_s, e.end_s) == (30.0, 35.0)


def test_stretches_take_the_least_confident_covering_window():
    starts, ends = np.array([0.0, 1.0]), np.array([2.0, 3.0])
    edges, s = stretch_scores(starts, ends, np.array([[0.2], [0.8]], np.float32))
    assert edges.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert s[:, 0].tolist() == pytest.approx([0.2, 0.2, 0.8])


def test_merge_gap_min_duration_and_label_filter():
    starts = np.arange(0.0, 10.0)
    ends = starts + 1
    a = np.array([1, 1, 0, 1, 0, 0, 0, 1, 0, 0], np.float32)
    scores = np.stack([a, 1 - a], axis=1)
    plain = detect_events(starts, ends, scores, ["a", "b"], only=["a"])
    assert [(e.start_s, e.end_s) for e in plain] == [(0, 2), (3, 4), (7, 8)]
    merged = detect_events(starts, ends, scores, ["a", "b"], merge_gap_s=1.0, only=["a"])
    assert [(e.start_s, e.end_s) for e in merged] == [(0, 4), (7, 8)]
    long = detect_events(starts, ends, scores, ["a", "b"], min_duration_s=2.0)
    assert [(e.label, e.start_s, e.end_s) for e in long] == [("a", 0, 2), ("b", 4, 7), ("b", 8, 10)]


EVENTS = [Event("Dog", 1.5, 3.25, 0.91), Event("Speech, man", 10.0, 12.5, 0.6)]


def test_raven_table_parses_back(tmp_path):
    path = write_events(tmp_path / ("clip" + SUFFIXES["raven"]), EVENTS, "raven")
    rows = list(csv.DictReader(io.StringIO(path.read_text()), delimiter="\t"))
    assert list(rows[0]) == RAVEN_COLUMNS
    assert [
        (r["Selection"], float(r["Begin Time (s)"]), float(r["End Time (s)"]), r["Label"])
        for r in rows
    ] == [("1", 1.5, 3.25, "Dog"), ("2", 10.0, 12.5, "Speech, man")]


def test_audacity_labels_parse_back(tmp_path):
    path = write_events(tmp_path / "clip.labels.txt", EVENTS, "audacity")
    lines = [line.split("\t") for line in path.read_text().splitlines()]
    assert [(float(a), float(b), c) for a, b, c in lines] == [
        (1.5, 3.25, "Dog"),
        (10.0, 12.5, "Speech, man"),
    ]


def test_csv_and_json_events_parse_back(tmp_path):
    rows = list(
        csv.DictReader(io.StringIO(write_events(tmp_path / "e.csv", EVENTS, "csv").read_text()))
    )
    assert [(r["label"], float(r["start_s"])) for r in rows] == [("Dog", 1.5), ("Speech, man", 10)]
    back = json.loads(write_events(tmp_path / "e.json", EVENTS, "json").read_text())
    assert [Event(**e) for e in back] == EVENTS


def test_find_audio_recursive_and_case_insensitive(tmp_path):
    (tmp_path / "sub" / "deep").mkdir(parents=True)
    for name in ["a.WAV", "sub/b.flac", "sub/deep/c.Mp3", "notes.txt"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "empty").mkdir()
    assert find_audio([tmp_path]) == [str(tmp_path / "a.WAV")]
    assert find_audio([tmp_path], recursive=True) == [
        str(tmp_path / "a.WAV"),
        str(tmp_path / "sub/b.flac"),
        str(tmp_path / "sub/deep/c.Mp3"),
    ]
    assert find_audio([tmp_path / "empty"]) == [str(tmp_path / "empty")]  # reported, not dropped


def _fake_analyse(calls):
    def analyse(paths):
        (path,) = paths
        calls.append(path)
        if "bad" in path:
            raise AudioError(path, "not an audio file or unsupported format")
        return [{"file": path, "duration_s": 1.0, "model": "m", "top": [], "error": None}]

    return analyse


def test_batch_journal_resume_gives_the_same_table(tmp_path):
    files = [f"f{i}.wav" for i in range(6)] + ["bad.wav"]
    full = run_batch(_fake_analyse([]), files, "m", Journal(tmp_path / "a.jsonl"))

    class Crash(Exception):
        pass

    def crash_after(n):
        calls = []
        inner = _fake_analyse(calls)

        def analyse(paths):
            if len(calls) == n:
                raise Crash()
            return inner(paths)

        return analyse

    journal = Journal(tmp_path / "b.jsonl")
    with pytest.raises(Crash):
        run_batch(crash_after(3), files, "m", journal)
    with open(journal.path, "a") as f:
        f.write('{"file": "f3.wav", "dura')  # torn line from a kill mid-write
    calls = []
    resumed = run_batch(_fake_analyse(calls), files, "m", journal, resume=True)
    assert calls == files[3:]
    assert resumed == full
    assert resumed[-1]["error"].startswith("bad.wav: not an audio file")
