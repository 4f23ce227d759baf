"""Long recordings in the window: overview, streamed scores with progress and Cancel, events
table, clicking an event moves the view, exports written by the GUI parse back.

"Long" is lowered to 60 s here (the app uses `LONG_SECONDS`, 10 min) so the test file is small;
the code path is the same one an hour-long file takes.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from app.gui.long import long_data
from ast_core.run.exports import RAVEN_COLUMNS
from bench.common import write_long_recording
from tests.support.gui_helpers import WAIT_MS, make_window

SECONDS = 240.0
BEEPS = [(20.25, 0.5), (95.0, 0.6), (180.5, 0.4)]
HOP = 1.015 / 2  # the beep model's window is 100 frames (1.015 s); default hop: half


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory):
    return write_long_recording(tmp_path_factory.mktemp("long") / "field recording.wav",
                                SECONDS, BEEPS)


@pytest.fixture
def window(qtbot, beep_model, monkeypatch):
    monkeypatch.setattr(long_data, "LONG_SECONDS", 60.0)
    w = make_window(qtbot, beep_model)
    assert w.model_state == "ready"
    return w


def _beep_events(events):
    return [(e.start_s, e.end_s) for e in events if e.label == "beep"]


def test_long_file_overview_scores_events_and_seek(qtbot, window, long_wav, tmp_path,
                                                  monkeypatch):
    long = window.long
    window.open_files([str(long_wav)])
    qtbot.waitUntil(lambda: long.file is not None, timeout=WAIT_MS)
    assert window.clip is None  # never decoded whole on the GUI side
    assert window.windowTitle().startswith("field recording.wav")
    assert window.events_dock.isVisible() and not window.timeline.isVisible()

    # overview: reduced time resolution, covering the whole file, waveform envelope too
    qtbot.waitUntil(lambda: window.spectrogram.spectrogram is not None, timeout=WAIT_MS)
    spec = window.spectrogram.spectrogram
    assert spec.frame_shift_s > 0.01 and len(spec.db) <= long_data.OVERVIEW_FRAMES
    assert len(spec.db) * spec.frame_shift_s == pytest.approx(SECONDS, abs=spec.frame_shift_s)
    qtbot.waitUntil(lambda: window.waveform.curve.xData is not None, timeout=WAIT_MS)
    assert window.waveform.curve.xData.max() == pytest.approx(SECONDS, abs=0.1)

    # scores stream in with progress; events come back at the inserted beeps (± one hop)
    qtbot.waitUntil(lambda: long.session.scores is not None, timeout=WAIT_MS)
    assert long.panel.bar.value() == 1000
    assert not long.panel.cancel_button.isEnabled()
    scores = long.session.scores
    assert scores.window_s == window.classifier.window_seconds
    assert scores.hop_s == pytest.approx(HOP)
    assert set(long.timeline.curves) == {"beep", "background"}
    qtbot.waitUntil(lambda: long.panel.table.rowCount() > 0, timeout=WAIT_MS)
    found = _beep_events(long.panel.events)
    assert len(found) == len(BEEPS), found
    for (start, length), (a, b) in zip(BEEPS, found, strict=True):
        assert abs(a - start) <= HOP + 1e-6 and abs(b - (start + length)) <= HOP + 1e-6

    # a higher min. duration drops the short beep events (the table follows)
    long.panel.min_duration.setValue(5.0)
    qtbot.waitUntil(lambda: not _beep_events(long.panel.events), timeout=WAIT_MS)
    long.panel.min_duration.setValue(0.0)
    qtbot.waitUntil(lambda: len(_beep_events(long.panel.events)) == len(BEEPS), timeout=WAIT_MS)

    # clicking the second beep's row zooms the spectrogram to it; detail comes for that range
    row = next(i for i, e in enumerate(long.panel.events)
               if e.label == "beep" and abs(e.start_s - BEEPS[1][0]) <= HOP)
    long.panel.table.cellClicked.emit(row, 0)
    x0, x1 = window.spectrogram.plot.viewRange()[0]
    event = long.panel.events[row]
    assert x0 <= event.start_s and event.end_s <= x1 and x1 - x0 < 10
    assert window.spectrogram.cursor.isVisible()
    assert window.spectrogram.cursor.value() == pytest.approx(event.start_s)
    detail = window.spectrogram.detail
    qtbot.waitUntil(lambda: detail.isVisible() and detail.image is not None, timeout=WAIT_MS)
    rect = detail.mapRectToView(detail.boundingRect())
    assert rect.left() <= event.start_s and rect.right() >= event.end_s
    full = detail.image  # (frames, mels) at 10 ms
    assert full.shape[1] == 128 and rect.width() / len(full) == pytest.approx(0.01)

    # exports chosen in the panel (format by name; the file dialog answers) parse back
    answers = iter([str(tmp_path / "beeps.txt"), str(tmp_path / "beeps.labels.txt")])
    asked = []

    def save_name(_parent, _caption, start, filt):
        asked.append((Path(start).name, filt))
        return next(answers), filt

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_name))
    for name in ("Raven selection table", "Audacity labels"):
        long.panel.export_format.setCurrentText(name)
        long.panel.export_button.click()
    assert asked == [("field recording.Table.1.selections.txt", "Raven selection table (*.txt)"),
                     ("field recording.labels.txt", "Audacity labels (*.txt)")]
    qtbot.waitUntil(lambda: (tmp_path / "beeps.txt").exists()
                    and (tmp_path / "beeps.labels.txt").exists(), timeout=WAIT_MS)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "beeps.txt").read_text()),
                               delimiter="\t"))
    assert list(rows[0]) == RAVEN_COLUMNS
    raven = [(float(r["Begin Time (s)"]), float(r["End Time (s)"])) for r in rows
             if r["Label"] == "beep"]
    assert np.ravel(raven) == pytest.approx(np.ravel(found), abs=1e-3)
    lines = [line.split("\t") for line in (tmp_path / "beeps.labels.txt").read_text().splitlines()]
    audacity = [(float(a), float(b)) for a, b, label in lines if label == "beep"]
    assert np.ravel(audacity) == pytest.approx(np.ravel(found), abs=1e-5)


def test_cancel_stops_the_scan(qtbot, window, long_wav):
    long = window.long
    window.open_files([str(long_wav)])
    qtbot.waitUntil(lambda: long.session.scores is not None, timeout=WAIT_MS)
    before = long.session.scores
    scored = []
    long.session.scored.connect(scored.append)
    long.panel.score_button.click()
    assert long.panel.cancel_button.isEnabled() and not long.panel.score_button.isEnabled()
    with qtbot.waitSignal(long.session.cancelled, timeout=WAIT_MS):
        long.panel.cancel_button.click()
    assert not long.panel.cancel_button.isEnabled() and long.panel.score_button.isEnabled()
    assert "cancelled" in long.panel.bar.format()
    qtbot.wait(1500)  # the worker stops at its next batch; its result never arrives
    assert scored == [] and long.session.scores is before

    # a different hop from the panel is used for the next scan
    long.panel.hop.setValue(0.25)
    long.panel.score_button.click()
    qtbot.waitUntil(lambda: len(scored) == 1, timeout=WAIT_MS)
    t = scored[0].windows
    assert scored[0].hop_s == 0.25 and np.allclose(np.diff(t.starts[:-1]), 0.25)


def test_a_short_clip_after_a_long_file_closes_it(qtbot, window, long_wav, tone_wav):
    long = window.long
    window.open_files([str(long_wav)])
    qtbot.waitUntil(lambda: long.session.scores is not None, timeout=WAIT_MS)
    window.open_files([str(tone_wav)])
    qtbot.waitUntil(lambda: window.analysis is not None, timeout=WAIT_MS)
    assert long.file is None and not long.timeline.isVisible()
    assert not window.spectrogram.detail.isVisible()
    assert window.clip is not None and window.clip.path == str(tone_wav)


def _open_and_settle(qtbot, window, path) -> None:
    """Open a long file and wait for its overview and scores (the pool is quiet again)."""
    window.open_files([str(path)])
    qtbot.waitUntil(lambda: window.long.session.scores is not None
                    and window.spectrogram.spectrogram is not None, timeout=WAIT_MS)


def test_play_streams_a_long_file_from_the_view_or_the_cursor(
        qtbot, alsa_file_mic, window, long_wav, monkeypatch):
    import threading

    from ast_core.audio import decode

    alsa_file_mic(np.zeros(16, np.int16))  # playback goes to ALSA's null device
    _open_and_settle(qtbot, window, long_wav)
    reads: list[tuple[float, str]] = []  # (start_s, thread) of each range read
    read_range = decode.read_range

    def spy(path, start, *args):
        reads.append((start, threading.current_thread().name))
        return read_range(path, start, *args)

    monkeypatch.setattr(decode, "read_range", spy)
    monkeypatch.setattr(decode, "load_audio", None)  # never decoded whole
    positions: list[float] = []
    window.player.position.connect(positions.append)
    play, stop = window.menu_actions["play"], window.menu_actions["stop"]

    # Play (Space) with no cursor on screen: from the start of the view
    window.spectrogram.plot.setXRange(100.0, 110.0, padding=0)
    window.view.set_cursor(None)
    play.trigger()
    assert window.player.playing
    qtbot.waitUntil(lambda: bool(positions) and positions[-1] > 108.5, timeout=WAIT_MS)
    assert "MainThread" not in {thread for _, thread in reads}  # no file I/O on the GUI thread
    streamed = [start for start, thread in reads if thread == "file-stream"]
    assert streamed[0] == 100.0
    assert 100.0 <= min(positions) and np.all(np.diff(positions) >= 0)
    assert window.spectrogram.cursor.isVisible()  # the moving cursor, as for a short clip
    assert window.spectrogram.cursor.value() == pytest.approx(positions[-1], abs=0.5)

    # Stop (Esc) ends playback and the reader: no more reads come
    stop.trigger()
    assert not window.player.playing and not window.spectrogram.cursor.isVisible()
    qtbot.wait(300)
    streamed = [start for start, thread in reads if thread == "file-stream"]
    qtbot.wait(300)
    assert [start for start, thread in reads if thread == "file-stream"] == streamed
    assert np.allclose(np.diff(streamed), 4.0)  # read ahead in 4-s chunks, one after another

    # with the cursor on screen, from the cursor; to the end of the file, where it stops
    reads.clear()
    positions.clear()
    window.spectrogram.plot.setXRange(230.0, 240.0, padding=0)
    window.view.set_cursor(236.5)
    with qtbot.waitSignal(window.player.stopped, timeout=WAIT_MS):
        play.trigger()
    assert [start for start, thread in reads if thread == "file-stream"][0] == 236.5
    assert positions[0] >= 236.5 and positions[-1] == pytest.approx(SECONDS, abs=0.05)


def test_save_a_long_file_as_wav(qtbot, window, long_wav, tmp_path, monkeypatch):
    import threading
    import time

    import soundfile as sf

    from ast_core.audio import decode

    _open_and_settle(qtbot, window, long_wav)
    iter_blocks = decode.iter_blocks
    threads = []

    def slow_blocks(*args, **kwargs):  # slow enough for the GUI to show progress meanwhile
        for block in iter_blocks(*args, **kwargs):
            threads.append(threading.current_thread() is threading.main_thread())
            time.sleep(0.1)
            yield block

    monkeypatch.setattr(decode, "iter_blocks", slow_blocks)
    progress: list[float] = []
    window.long.session.save_progress.connect(progress.append)
    target = tmp_path / "saved copy.wav"
    assert window.menu_actions["save_wav"].isEnabled()
    window.save_wav(str(target))
    qtbot.waitUntil(lambda: "Saved" in window.statusBar().currentMessage(), timeout=WAIT_MS)
    assert len(threads) == 8 and not any(threads)  # 240 s in 30-s blocks, on a worker
    assert any(0 < f < 1 for f in progress)  # the GUI thread ran while the worker wrote
    saved, rate = sf.read(target, dtype="float32")
    assert rate == 16000 and sf.info(target).subtype == "PCM_16"
    source, _ = sf.read(long_wav, dtype="float32")
    np.testing.assert_allclose(saved, source, atol=1 / 32768 + 1e-7)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary file left
