"""Drives the real app in a child process (under xvfb-run) and saves screenshots of its states.

Usage: python -m tests.support.gui_driver OUT_DIR CLIP [LONG_CLIP] [MODEL_DIR]
Writes OUT_DIR/*.png and OUT_DIR/result.json (start-up time, states seen). Not a test module:
`test_gui_app.py` runs it. Without MODEL_DIR the app starts with no model installed.
"""

from __future__ import annotations

import json
import sys
import time

T0 = time.perf_counter()

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tests.support.gui_helpers import close_message, label_rows  # noqa: E402


def main() -> int:
    out, clip = sys.argv[1], sys.argv[2]
    long_clip = sys.argv[3] if len(sys.argv) > 3 else None
    model = sys.argv[4] if len(sys.argv) > 4 else None
    app = QApplication(sys.argv[:1])
    result: dict = {"states": []}
    opened: dict = {}  # the dialogs the window returned when asked to open them

    if model:
        from app.gui.settings import Settings

        Settings().set("model", model)

    def window():
        from app.gui.main_window import MainWindow

        return next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))

    def shot(name: str, widget=None) -> None:
        app.processEvents()
        (widget or window()).grab().save(f"{out}/{name}.png")
        result["states"].append(name)

    def wait(cond, then, timeout_s: float = 120.0):
        start = time.monotonic()

        def poll():
            if cond():
                then()
            elif time.monotonic() - start > timeout_s:
                result["timeout"] = then.__name__
                finish()
            else:
                QTimer.singleShot(50, poll)

        poll()

    def started():
        w = window()
        result["window_visible_s"] = time.perf_counter() - T0
        result["torch_loaded_at_show"] = "torch" in sys.modules
        result["model_label_at_show"] = w.model_label.text()
        shot("01-startup")
        wait(lambda: w.model_state != "loading", model_ready)

    def model_ready():
        w = window()
        result["model_state"] = w.model_state
        result["model_ready_s"] = time.perf_counter() - T0
        if w.model_state == "none":
            shot("02-no-model")
            w.open_files([clip])
            wait(lambda: w.spectrogram.spectrogram is not None, no_model_clip)
        else:
            w.open_files([clip])
            wait(lambda: w.analysis is not None, classified)

    def no_model_clip():
        shot("03-no-model-with-clip")
        opened["picker"] = window().dialogs.choose_model()
        wait(lambda: opened["picker"].hub.count() > 0, picker_shown)

    def classified():
        w = window()
        result["top"] = label_rows(w.labels)
        shot("02-classified")
        if long_clip:
            w.open_files([long_clip])
            wait(lambda: w.analysis is not None and w.clip.path == long_clip, long_done)
        else:
            finish()

    def long_done():
        w = window()
        w.labels.list.setCurrentRow(1)
        wait(lambda: w.spectrogram.overlay.attention.offset_s
             == w.timeline.marker.getRegion()[0], long_shot)

    def long_shot():
        w = window()
        result["windows"] = len(w.analysis.windows.starts)
        shot("04-long-clip-timeline")
        w.attention.source.setCurrentText("rollout")
        w.display.colormap.setCurrentText("magma")
        shot("05-rollout-magma")
        opened["picker"] = w.dialogs.choose_model()
        wait(lambda: opened["picker"].hub.count() > 0, picker_shown)

    def picker_shown():
        shot("06-model-picker", opened["picker"])
        opened["picker"].reject()
        opened["record"] = window().dialogs.record()
        QTimer.singleShot(200, record_shown)

    def record_shown():
        shot("07-record-dialog", opened["record"])
        opened["record"].reject()
        close_message(window())
        finish()

    def finish():
        with open(f"{out}/result.json", "w") as f:
            json.dump(result, f, indent=1)
        window().close()
        app.quit()

    QTimer.singleShot(0, started)
    from app.gui.launch import run_gui

    return run_gui([])


if __name__ == "__main__":
    sys.exit(main())
