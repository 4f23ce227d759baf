"""Label lists shipped in `resources/` (AudioSet ontology, CC BY-SA 4.0)."""

from __future__ import annotations

import csv
from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
LABEL_SETS = {
    "audioset": "audioset_class_labels_indices.csv",
    "esc50": "esc50_class_labels_indices.csv",
    "speechcommands": "speechcommands_class_labels_indices.csv",
}


def load_labels(name: str) -> list[str]:
    """Display names of a shipped label set, in model output order."""
    path = RESOURCES / LABEL_SETS[name]
    with path.open(newline="", encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r["index"]))
    return [r["display_name"] for r in rows]
