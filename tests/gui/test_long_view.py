"""`LongView` needs only the plots it draws on and a player: no main window.

It reports what the window should show (`opened`, `status`, `failed`) through signals.
"""

from __future__ import annotations

import pytest

from app.gui import workers
from app.gui.clip.clip_view import ClipView
from app.gui.long.long_data import LongFile
from app.gui.long.long_view import LongView
from app.gui.widgets.player import Player
from tests.support.audio_corpus import write_tone
from tests.support.gui_helpers import WAIT_MS


@pytest.fixture
def long_view(qtbot):
    view = ClipView()
    qtbot.addWidget(view, before_close_func=lambda _w: workers.wait_all(30_000))
    lv = LongView(view, Player(view), view)
    view.show()
    return lv, view


def test_a_long_file_opens_on_the_plots_it_was_given(qtbot, long_view, tmp_path):
    lv, view = long_view
    wav = write_tone(tmp_path / "tone.wav", 440.0, 6.0, 16_000, 1)
    opened, status = [], []
    lv.opened.connect(opened.append)
    lv.status.connect(lambda text, _ms: status.append(text))
    lf = LongFile(str(wav), wav.name, 6.0)
    lv.open(lf)
    assert opened == [lf] and lv.file is lf
    assert lv.timeline.isVisible() and lv.timeline.parent() is view  # the strip it was given
    assert wav.name in lv.panel.file_label.text()
    qtbot.waitUntil(lambda: view.spectrogram.spectrogram is not None, timeout=WAIT_MS)
    assert view.spectrogram.spectrogram.db.shape[0] > 0
    assert view.waveform.curve.xData is not None
    assert "Overview ready; zoom in for full detail." in status

    lv.close_file()  # a short clip took its place
    assert lv.file is None and not lv.timeline.isVisible()
    assert lv.panel.table.rowCount() == 0 and wav.name not in lv.panel.file_label.text()


def test_errors_go_out_as_signals(qtbot, long_view, tmp_path):
    lv, _view = long_view
    with qtbot.waitSignal(lv.failed, timeout=WAIT_MS) as failed:
        lv.open(LongFile(str(tmp_path / "gone.wav"), "gone.wav", 900.0))
    exc, title = failed.args
    assert title == "Overview" and "gone.wav" in str(exc)
