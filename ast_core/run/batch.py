"""Classify many files: one result object per file, journaled so a crash loses nothing finished.

The result object is what `ast-studio classify --format json` prints (see README): `file`,
`duration_s`, `model`, `top`, `error`, and optionally `windows` and `events`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ast_core.audio import SAMPLE_RATE
from ast_core.audio.decode import is_audio_path, load_audio, probe, read_into_cache
from ast_core.audio.read_ahead import read_ahead
from ast_core.errors import AudioError
from ast_core.run.events import detect_events
from ast_core.run.windows import WindowScores, one_window


@dataclass(frozen=True)
class EventOptions:
    threshold: float = 0.5
    min_duration_s: float = 0.0
    merge_gap_s: float = 0.0


def find_audio(paths: Iterable[str | os.PathLike], recursive: bool = False) -> list[str]:
    """Files as given, folders expanded to their audio files (sorted; subfolders if recursive).

    A folder without audio files stays in the list as itself, so it gets an error result.
    """
    found: list[str] = []
    for p in map(Path, paths):
        if p.is_dir():
            pattern = p.rglob("*") if recursive else p.glob("*")
            files = sorted(str(f) for f in pattern if f.is_file() and is_audio_path(f))
            found += files or [str(p)]
        else:
            found.append(str(p))
    return found


def _top(labels: Sequence[str], scores: np.ndarray, k: int) -> list[dict]:
    order = np.argsort(-scores, kind="stable")[:k]
    return [{"label": labels[i], "score": float(scores[i])} for i in order]


def analyse_file(
    clf,
    path: str,
    top_k: int = 5,
    window_s: float | None = None,
    hop_s: float | None = None,
    events: EventOptions | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> dict:
    """One file's result, from its window scores (`Classifier.score_file`, streamed block by
    block, so memory does not grow with the file's length) pooled into the clip's scores by
    the rules of `ast_core.run.windows`: nothing longer than a window is cropped silently, and
    a file of at most one window gets `Classifier.predict`'s scores, events or not."""
    duration = probe(path).duration_s
    ws = clf.score_file(path, window_s, hop_s, cancelled=cancelled)
    return _result(clf, path, duration, ws, top_k, bool(window_s or hop_s), events)


def analyse_files(
    clf,
    paths: Sequence[str],
    top_k: int = 5,
    window_s: float | None = None,
    hop_s: float | None = None,
    events: EventOptions | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[dict]:
    """`analyse_file` for each path, with the files of at most one window scored in one forward
    pass (`Classifier.score_clips`; this is what pays on GPUs). Unreadable files get error
    results."""
    win, _ = clf.window_samples(window_s, hop_s)
    results: list[dict | None] = [None] * len(paths)
    clips: list[tuple[int, float, np.ndarray]] = []  # (index, duration, audio)
    for i, path in enumerate(paths):
        try:
            duration = probe(path).duration_s  # may be off a little: the samples decide
            audio = load_audio(path) if duration * SAMPLE_RATE <= win + 1 else None
            if audio is not None and one_window(len(audio), win):
                clips.append((i, duration, audio))
            else:
                results[i] = analyse_file(clf, path, top_k, window_s, hop_s, events, cancelled)
        except AudioError as e:
            results[i] = error_result(path, clf.name, e)
    if clips:
        scores = clf.score_clips([audio for _, _, audio in clips])
        for (i, duration, audio), row in zip(clips, scores, strict=True):
            ws = WindowScores(np.zeros(1), np.array([len(audio) / SAMPLE_RATE]), row[None])
            results[i] = _result(clf, paths[i], duration, ws, top_k, bool(window_s or hop_s),
                                 events)
    return results


def _result(
    clf,
    path: str,
    duration: float,
    ws: WindowScores,
    top_k: int,
    windows: bool,
    events: EventOptions | None,
) -> dict:
    """The result object of a file from its window scores; `windows`: list them too."""
    result: dict = {"file": path, "duration_s": duration, "model": clf.name}
    if windows:
        result["windows"] = [
            {"start_s": float(s), "end_s": float(e), "scores": _top(clf.labels, row, top_k)}
            for s, e, row in zip(ws.starts, ws.ends, ws.scores, strict=True)
        ]
    if events:
        found = detect_events(ws.starts, ws.ends, ws.scores, clf.labels, events.threshold,
                              events.min_duration_s, events.merge_gap_s)
        result["events"] = [e.to_dict() for e in found]
    result["top"] = _top(clf.labels, ws.pooled(clf.label_mode), top_k)
    result["error"] = None
    return result


def error_result(path: str, model: str, error: AudioError) -> dict:
    return {"file": path, "duration_s": None, "model": model, "top": [], "error": str(error)}


class Journal:
    """Append-only JSON-lines file of finished results, fsynced per line."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def load(self) -> dict[str, dict]:
        """Finished results by file; a torn last line (crash mid-write) is ignored."""
        done: dict[str, dict] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                done[r["file"]] = r
        return done

    def append(self, result: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(result, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())


def run_batch(
    analyse: Callable[[list[str]], list[dict]],
    files: Sequence[str],
    model: str,
    journal: Journal | None = None,
    resume: bool = False,
    on_result: Callable[[int, dict], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    prefetch: Callable[[str], None] | None = read_into_cache,
    group: int = 1,
) -> list[dict]:
    """Results for `files` in order; with `resume`, files already in the journal are skipped.

    `analyse(paths)` gets up to `group` files still to do and returns their results; an
    `AudioError` it raises becomes the error result of each of them, so bad files never stop
    the run. `on_result(i, result)` is called after each file (progress); `cancelled` is polled
    between groups. `prefetch(path)` runs for the next files to analyse on a thread, at most
    a group and a file ahead (default: reading them into the OS cache).
    """
    done = journal.load() if journal is not None and resume else {}
    if journal is not None and not resume and journal.path.exists():
        journal.path.unlink()
    todo = [p for p in files if p not in done]
    ahead = read_ahead((prefetch(p) for p in todo), group) if prefetch is not None else None
    fresh: dict[str, dict] = {}
    taken = 0  # files of `todo` analysed so far
    results = []
    try:
        for i, path in enumerate(files):
            if path not in done and path not in fresh:
                if cancelled is not None and cancelled():
                    break
                paths = todo[taken : taken + group]
                taken += len(paths)
                if ahead is not None:
                    for _ in paths:
                        next(ahead)  # these files' prefetch is done; the next ones' go on
                try:
                    batch = analyse(paths)
                except AudioError as e:
                    batch = [error_result(p, model, e) for p in paths]
                for result in batch:
                    if journal is not None:
                        journal.append(result)
                fresh.update(zip(paths, batch, strict=True))
            result = done.get(path) or fresh[path]
            results.append(result)
            if on_result is not None:
                on_result(i, result)
    finally:
        if ahead is not None:
            ahead.close()
    return results
