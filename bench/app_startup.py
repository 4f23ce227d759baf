"""`ast-studio bench --startup`: start-up time of the real app, from spawning its process.

The child shows the main window (offscreen unless a display is set) with the given model and
prints a line when the window is visible and another when the model is ready; the parent
times both from the moment it spawned the child, so interpreter start-up is included. The
child's code is a string run with `python -c`: bench sits below the app in the import layers
and never imports it (nor Qt) itself.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time

from bench.common import child_env

_CHILD = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.gui.settings import Settings
from app.gui.main_window import MainWindow

app = QApplication(sys.argv[:1])
Settings().set("model", sys.argv[1])
w = MainWindow()
w.show()

def ready():
    if w.model_state == "loading":
        QTimer.singleShot(20, ready)
    else:
        print("ready", w.model_state, flush=True)
        app.quit()

def shown():
    print("visible", flush=True)
    ready()

QTimer.singleShot(0, shown)
app.exec()
"""


def startup_times(model_folder: str, runs: int = 2) -> dict:
    """Seconds to window visible and to model ready (median of `runs`, after one warm run)."""
    visible, ready = [], []
    with tempfile.TemporaryDirectory() as data:
        env = child_env(AST_STUDIO_DATA_DIR=data)
        if not env.get("DISPLAY"):
            env["QT_QPA_PLATFORM"] = "offscreen"
        for _ in range(runs + 1):  # the first run warms the disk cache
            t0 = time.perf_counter()
            child = subprocess.Popen(
                [sys.executable, "-c", _CHILD, model_folder],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            times = {}
            for line in child.stdout:
                word, *rest = line.split()
                times[word] = time.perf_counter() - t0
                if word == "ready":
                    times["state"] = rest[0]
            child.wait(timeout=120)
            visible.append(times.get("visible", float("nan")))
            ready.append(times.get("ready", float("nan")))
    return {
        "window_visible_s": sorted(visible[1:])[len(visible[1:]) // 2],
        "model_ready_s": sorted(ready[1:])[len(ready[1:]) // 2],
        "model_state": times.get("state"),
    }
