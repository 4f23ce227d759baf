"""A 60-s file is decoded, drawn and classified off the GUI thread (the event loop keeps turning).

The checks are which thread ran each piece of work. The longest event-loop gap is printed as a
figure to look at, not asserted: on a shared machine a wall-clock limit is a benchmark, not a test.
"""

from __future__ import annotations

import gc
import threading
import time

import pytest
from PySide6.QtCore import QTimer

from tests.support.audio_corpus import write_tone
from tests.support.gui_helpers import WAIT_MS, make_window
from tests.support.model_factory import save_tiny_folder


@pytest.fixture(scope="module")
def audioset_shaped_model(tmp_path_factory):
    """AudioSet's 1024-frame (10.24-s) window, 10 blocks: 60 s is 11 windows of real work."""
    return save_tiny_folder(tmp_path_factory.mktemp("m") / "tiny-1024", target_length=1024,
                           depth=10)


def test_decoding_features_and_inference_run_off_the_gui_thread(
        qtbot, audioset_shaped_model, tmp_path, monkeypatch):
    from ast_core.audio import decode

    wav = write_tone(tmp_path / "minute.wav", 330.0, 60.0, 16_000, 1)
    w = make_window(qtbot, audioset_shaped_model)
    on_gui: dict[str, list[bool]] = {"decode": [], "features": [], "model": []}

    def note(kind: str) -> None:
        on_gui[kind].append(threading.current_thread() is threading.main_thread())

    def noted(kind: str, func):
        def spy(*args, **kwargs):
            note(kind)
            return func(*args, **kwargs)
        return spy

    monkeypatch.setattr(decode, "load_audio", noted("decode", decode.load_audio))
    monkeypatch.setattr(w.classifier, "spectrogram", noted("features", w.classifier.spectrogram))
    hook = w.classifier.model.patch_embed.register_forward_hook(lambda *_: note("model"))
    gc.collect()  # earlier tests' windows are garbage; collecting them is not this test's work
    ticks: list[float] = []
    probe = QTimer()
    probe.setInterval(10)
    probe.timeout.connect(lambda: ticks.append(time.perf_counter()))
    probe.start()
    w.open_files([str(wav)])
    qtbot.waitUntil(lambda: w.analysis is not None and w.spectrogram.spectrogram is not None,
                    timeout=WAIT_MS * 2)
    probe.stop()
    hook.remove()

    assert len(w.analysis.windows.starts) == 11
    assert on_gui["decode"] == [False]  # decoded once, on a worker
    assert on_gui["features"] and not any(on_gui["features"])
    assert on_gui["model"] and not any(on_gui["model"])  # every batch of windows, attention
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    print(f"\n60-s clip: {len(ticks)} probe ticks, longest event-loop gap "
          f"{max(gaps, default=0.0) * 1000:.0f} ms (a figure, not a limit)")
