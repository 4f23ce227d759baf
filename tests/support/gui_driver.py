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


class Tour:
    """The states the tour visits, each a step that waits for the next state, then shoots it."""

    def __init__(self, app: QApplication, out: str, clip: str, long_clip: str | None):
        self.app, self.out, self.clip, self.long_clip = app, out, clip, long_clip
        self.result: dict = {"states": []}
        self.opened: dict = {}  # the dialogs the window returned when asked to open them

    def window(self):
        from app.gui.main_window import MainWindow

        return next(w for w in self.app.topLevelWidgets() if isinstance(w, MainWindow))

    def shot(self, name: str, widget=None) -> None:
        self.app.processEvents()
        (widget or self.window()).grab().save(f"{self.out}/{name}.png")
        self.result["states"].append(name)

    def wait(self, cond, then, timeout_s: float = 120.0) -> None:
        start = time.monotonic()

        def poll():
            if cond():
                then()
            elif time.monotonic() - start > timeout_s:
                self.result["timeout"] = then.__name__
                self.finish()
            else:
                QTimer.singleShot(50, poll)

        poll()

    def started(self) -> None:
        w = self.window()
        self.result["window_visible_s"] = time.perf_counter() - T0
        self.result["torch_loaded_at_show"] = "torch" in sys.modules
        self.result["model_label_at_show"] = w.model_label.text()
        self.shot("01-startup")
        self.wait(lambda: w.model_state != "loading", self.model_ready)

    def model_ready(self) -> None:
        w = self.window()
        self.result["model_state"] = w.model_state
        self.result["model_ready_s"] = time.perf_counter() - T0
        if w.model_state == "none":
            self.shot("02-no-model")
            w.open_files([self.clip])
            self.wait(lambda: w.spectrogram.spectrogram is not None, self.no_model_clip)
        else:
            w.open_files([self.clip])
            self.wait(lambda: w.analysis is not None, self.classified)

    def no_model_clip(self) -> None:
        self.shot("03-no-model-with-clip")
        self.opened["picker"] = self.window().dialogs.choose_model()
        self.wait(lambda: self.opened["picker"].hub.count() > 0, self.picker_shown)

    def classified(self) -> None:
        w = self.window()
        self.result["top"] = label_rows(w.labels)
        self.shot("02-classified")
        if self.long_clip:
            w.open_files([self.long_clip])
            self.wait(lambda: w.analysis is not None and w.clip.path == self.long_clip,
                      self.long_done)
        else:
            self.finish()

    def long_done(self) -> None:
        w = self.window()
        w.labels.list.setCurrentRow(1)
        self.wait(lambda: w.spectrogram.overlay.attention.offset_s
                  == w.timeline.marker.getRegion()[0], self.long_shot)

    def long_shot(self) -> None:
        w = self.window()
        self.result["windows"] = len(w.analysis.windows.starts)
        self.shot("04-long-clip-timeline")
        w.attention.source.setCurrentText("rollout")
        w.display.colormap.setCurrentText("magma")
        self.shot("05-rollout-magma")
        self.opened["picker"] = w.dialogs.choose_model()
        self.wait(lambda: self.opened["picker"].hub.count() > 0, self.picker_shown)

    def picker_shown(self) -> None:
        self.shot("06-model-picker", self.opened["picker"])
        self.opened["picker"].reject()
        self.opened["record"] = self.window().dialogs.record()
        QTimer.singleShot(200, self.record_shown)

    def record_shown(self) -> None:
        self.shot("07-record-dialog", self.opened["record"])
        self.opened["record"].reject()
        close_message(self.window())
        self.finish()

    def finish(self) -> None:
        with open(f"{self.out}/result.json", "w") as f:
            json.dump(self.result, f, indent=1)
        self.window().close()
        self.app.quit()


def main() -> int:
    out, clip = sys.argv[1], sys.argv[2]
    long_clip = sys.argv[3] if len(sys.argv) > 3 else None
    model = sys.argv[4] if len(sys.argv) > 4 else None
    app = QApplication(sys.argv[:1])
    if model:
        from app.gui.settings import Settings

        Settings().set("model", model)
    tour = Tour(app, out, clip, long_clip)
    QTimer.singleShot(0, tour.started)
    from app.gui.launch import run_gui

    return run_gui([])


if __name__ == "__main__":
    sys.exit(main())
