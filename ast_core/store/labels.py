"""Label lists shipped as package data in `label_lists/` (AudioSet ontology, CC BY-SA 4.0).

Read through `importlib.resources`, so they are found in a wheel, a zip or a frozen build alike.
"""

from __future__ import annotations

import csv
import io
from importlib.resources import files

LABEL_SETS = {
    "audioset": "audioset_class_labels_indices.csv",
    "esc50": "esc50_class_labels_indices.csv",
    "speechcommands": "speechcommands_class_labels_indices.csv",
}


def load_labels(name: str) -> list[str]:
    """Display names of a shipped label set, in model output order."""
    text = files("ast_core.store").joinpath("label_lists", LABEL_SETS[name]).read_text("utf-8")
    rows = sorted(csv.DictReader(io.StringIO(text, newline="")), key=lambda r: int(r["index"]))
    return [r["display_name"] for r in rows]
