"""The first import of torch and the model code runs without collector passes, and what it
left is frozen; later uses (and the models loaded after) are left to the collector."""

from __future__ import annotations

import json
import subprocess
import sys

_CHILD = r"""
import gc, json
from ast_core.accel.heavy_imports import heavy_imports

full_passes = gc.get_stats()[2]["collections"]
with heavy_imports():
    from ast_core.run.classifier import Classifier
out = {"passes": gc.get_stats()[2]["collections"] - full_passes,
       "frozen": gc.get_freeze_count(), "enabled": gc.isenabled()}
with heavy_imports():  # torch is imported now: a no-op
    made = [[i] for i in range(10_000)]
out["frozen_after_second"] = gc.get_freeze_count()
print(json.dumps(out))
"""


def test_first_import_runs_without_full_passes_and_is_frozen():
    r = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                       timeout=300, check=True)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["passes"] == 0
    assert out["enabled"]
    assert out["frozen"] > 100_000  # torch, timm and friends: about 600k objects here
    assert out["frozen_after_second"] == out["frozen"]
