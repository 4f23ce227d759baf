"""Event and result exports people use: CSV, JSON, Raven selection tables, Audacity labels.

Every export is written atomically.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path

from ast_core.run.events import Event
from ast_core.store.atomic import atomic_write_text

RAVEN_COLUMNS = [
    "Selection",
    "View",
    "Channel",
    "Begin Time (s)",
    "End Time (s)",
    "Low Freq (Hz)",
    "High Freq (Hz)",
    "Label",
    "Score",
]


def events_csv(events: Sequence[Event]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["label", "start_s", "end_s", "score"])
    for e in events:
        w.writerow([e.label, f"{e.start_s:.3f}", f"{e.end_s:.3f}", f"{e.score:.6f}"])
    return out.getvalue()


def events_json(events: Sequence[Event]) -> str:
    return json.dumps([e.to_dict() for e in events], indent=2, ensure_ascii=False) + "\n"


def raven_table(events: Sequence[Event], high_freq_hz: float = 8000.0) -> str:
    """Raven Pro selection table: tab-separated, Raven's column names, one row per event."""
    lines = ["\t".join(RAVEN_COLUMNS)]
    for i, e in enumerate(events, 1):
        row = [
            str(i),
            "Spectrogram 1",
            "1",
            f"{e.start_s:.4f}",
            f"{e.end_s:.4f}",
            "0.0",
            f"{high_freq_hz:.1f}",
            e.label,
            f"{e.score:.4f}",
        ]
        lines.append("\t".join(row))
    return "\n".join(lines) + "\n"


def audacity_labels(events: Sequence[Event]) -> str:
    """Audacity label track: `start<TAB>end<TAB>label` per line, seconds."""
    return "".join(f"{e.start_s:.6f}\t{e.end_s:.6f}\t{e.label}\n" for e in events)


def results_csv(results: Sequence[dict], events: bool = False) -> str:
    """Batch results (`classify --format json` objects) as CSV.

    Without `events`: one row per (file, rank) of the top labels; with `events`: one row per
    event. A file that failed gets one row with its error.
    """
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    if events:
        w.writerow(["file", "label", "start_s", "end_s", "score", "error"])
    else:
        w.writerow(["file", "duration_s", "rank", "label", "score", "error"])
    for r in results:
        if events:
            for e in r.get("events") or []:
                w.writerow([r["file"], e["label"], e["start_s"], e["end_s"], e["score"], ""])
        else:
            for rank, t in enumerate(r["top"], 1):
                w.writerow([r["file"], r["duration_s"], rank, t["label"], t["score"], ""])
        if r["error"]:
            w.writerow([r["file"], "", "", "", "", r["error"]])
    return out.getvalue()


WRITERS = {
    "csv": events_csv,
    "json": events_json,
    "raven": raven_table,
    "audacity": audacity_labels,
}
SUFFIXES = {
    "csv": ".events.csv",
    "json": ".events.json",
    "raven": ".Table.1.selections.txt",
    "audacity": ".labels.txt",
}
FORMAT_NAMES = {  # what the user picks from (the window's export choices)
    "csv": "CSV",
    "json": "JSON",
    "raven": "Raven selection table",
    "audacity": "Audacity labels",
}


def write_events(path: str | os.PathLike, events: Sequence[Event], fmt: str) -> Path:
    """Write `events` in format `fmt` (csv, json, raven, audacity) to `path`, atomically."""
    return atomic_write_text(path, WRITERS[fmt](events))
