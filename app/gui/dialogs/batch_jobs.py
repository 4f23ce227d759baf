"""What the Batch dialog's workers compute (no Qt): pre-flight, the journaled run, exports.

The run is the core's `ast_core.run.batch.run_batch` with `analyse_files`, the same as
`ast-studio classify DIR`, so the dialog's table equals the command's (and each file's scores
the main window's: one sliding-window scorer, whether events are asked for or not). Results
are journaled (one fsynced JSON line per file) in the user data folder under a key made of the
file list, model and options, so Resume after a cancel or a crash skips what is finished.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ast_core.audio import SAMPLE_RATE

SHORT_S = 0.1  # shorter files are listed as odd (a few frames, the rest of the input padding)


@dataclass
class Preflight:
    files: list[str]  # every path the run will see, in order (bad ones included)
    durations: dict[str, float]  # readable files -> seconds
    problems: list[tuple[str, str]]  # (path, reason): unreadable or odd
    unreadable: int = 0

    @property
    def total_s(self) -> float:
        return float(sum(self.durations.values()))


@dataclass
class Options:
    top_k: int = 5
    window_s: float | None = None
    hop_s: float | None = None
    events: bool = False
    threshold: float = 0.5
    min_duration_s: float = 0.0
    merge_gap_s: float = 0.0


@dataclass
class RunState:
    """Shared between the run's worker and the dialog's timer (lists only grow)."""

    results: list[dict] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    skipped: int = 0  # results that came from the journal (resume)
    _cancel: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()


def preflight(folder: str, recursive: bool) -> Iterator[float]:
    """Generator worker: check every file; yields progress, returns `Preflight`.

    Each file is probed and decoded through (block by block, nothing kept), since a truncated
    FLAC or a NaN sample shows only while decoding; decoding is cheap next to the model.
    """
    from ast_core.audio.decode import iter_blocks, probe
    from ast_core.errors import AudioError
    from ast_core.run.batch import find_audio

    files = find_audio([folder], recursive)
    result = Preflight(files, {}, [])
    for i, path in enumerate(files):
        try:
            info = probe(path)
            for _ in iter_blocks(path):  # decode through: truncation and NaN show only here
                pass
        except AudioError as e:
            result.problems.append((path, e.reason))
            result.unreadable += 1
        else:
            result.durations[path] = info.duration_s
            if info.duration_s < SHORT_S:
                result.problems.append((path, f"very short ({info.duration_s * 1000:.1f} ms)"))
            if info.sample_rate < SAMPLE_RATE:
                result.problems.append(
                    (path, f"{info.sample_rate} Hz: upsampled, no content above "
                     f"{info.sample_rate // 2} Hz"))
        yield (i + 1) / len(files)
    yield 1.0
    return result


def journal_path(files: Sequence[str], model: str, options: Options) -> Path:
    """Where the journal of this exact run lives (same files, model, options -> same path)."""
    from ast_core.store.model_store import data_dir

    key = json.dumps([list(files), model, options.__dict__], sort_keys=True)
    return data_dir() / "batch" / f"{hashlib.sha1(key.encode()).hexdigest()[:16]}.jsonl"


def journal_count(path: str | Path) -> int:
    from ast_core.run.batch import Journal

    return len(Journal(path).load())


def run(classifier: Any, files: Sequence[str], journal: str | Path, resume: bool,
        options: Options, state: RunState) -> list[dict]:
    """Classify `files` (results appended to `state.results` as they come); the full table."""
    from ast_core.run.batch import EventOptions, Journal, analyse_files, run_batch

    events = (EventOptions(options.threshold, options.min_duration_s, options.merge_gap_s)
              if options.events else None)
    j = Journal(journal)
    if resume:
        state.skipped = len(set(j.load()) & set(files))

    def analyse(paths: list[str]) -> list[dict]:
        return analyse_files(classifier, paths, options.top_k, options.window_s,
                             options.hop_s, events, cancelled=state.cancelled)

    return run_batch(analyse, files, classifier.name, j, resume,
                     lambda i, r: state.results.append(r), state.cancelled,
                     group=classifier.clips_per_pass)


def export_table(path: str, results: Sequence[dict]) -> str:
    """CSV, or JSON when `path` ends in .json (the `--format json` list), written atomically."""
    from ast_core.run.exports import results_csv
    from ast_core.store.atomic import atomic_write_text

    if path.lower().endswith(".json"):
        text = json.dumps(list(results), indent=2, ensure_ascii=False) + "\n"
    else:
        text = results_csv(results)
    return str(atomic_write_text(path, text))


def export_events(folder: str, results: Sequence[dict], fmt: str) -> list[str]:
    """One event file per classified file into `folder` (name: stem + the format's suffix)."""
    from ast_core.run.events import Event
    from ast_core.run.exports import SUFFIXES, write_events

    written = []
    for r in results:
        if not r["error"] and r.get("events") is not None:
            name = Path(r["file"]).stem + SUFFIXES[fmt]
            events = [Event(**e) for e in r["events"]]
            written.append(str(write_events(Path(folder) / name, events, fmt)))
    return written
