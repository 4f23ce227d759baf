"""Main window: open (dialog path, drag and drop), spectrogram, labels, attention, errors."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from tests.support.audio_corpus import write_bad_corpus, write_tone
from tests.support.gui_helpers import (
    WAIT_MS,
    close_message,
    label_rows,
    make_window,
    message_text,
    wait_classified,
)


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory):
    """A 4-s tone: longer than the tiny model's 1.28-s window, so it is scored per window."""
    return write_tone(tmp_path_factory.mktemp("clips") / "long tone.wav", 660.0, 4.0, 16_000, 1)


def test_open_file_shows_spectrogram_labels_and_attention(qtbot, tiny_model, tone_wav):
    w = make_window(qtbot, tiny_model)
    assert w.model_state == "ready"
    w.open_files([str(tone_wav)])
    wait_classified(qtbot, w)

    spec = w.spectrogram.spectrogram
    frames = (32_000 - 400) // 160 + 1  # kaldi frames of a 2-s clip: 25-ms window, 10-ms hop
    assert spec.db.shape == (frames, 128)
    assert w.spectrogram.image.image.shape == (frames, 128)
    rect = w.spectrogram.image.mapRectToParent(w.spectrogram.image.boundingRect())
    assert rect.left() == pytest.approx(0.0)
    assert rect.width() == pytest.approx(frames * 0.01)  # seconds
    assert rect.height() == pytest.approx(128)  # mel bins, labelled in Hz
    assert w.spectrogram.plot.getAxis("bottom").labelText == "Time"
    ticks = w.spectrogram.mel_axis.tickValues(0, 128, 400)[0][1]
    labels = w.spectrogram.mel_axis.tickStrings(ticks, 1, 1)
    assert "1k" in labels and "4k" in labels
    assert np.all(np.diff(ticks) > 0)

    rows = label_rows(w.labels)
    assert len(rows) == 5  # top k = 5 of 5 labels
    assert [s for _, s in rows] == sorted((s for _, s in rows), reverse=True)
    assert "%" in w.labels.list.itemWidget(w.labels.list.item(0)).bar.format()

    overlay = w.spectrogram.overlay
    assert overlay.grid_map is not None
    assert overlay.grid_map.shape == (12, 12)  # (128-16)//10+1 x (128-16)//10+1
    assert overlay.image.shape == (128, 128)  # model window frames x mels
    assert overlay.isVisible()
    # layer choice: the tiny model has 2 layers
    w.attention.source.setCurrentText("layer 2")
    assert overlay.source == "layer 2"
    assert np.allclose(overlay.grid_map, w.analysis.attention.grid["layer 2"])
    w.attention.source.setCurrentText("rollout")
    assert np.allclose(overlay.grid_map, w.analysis.attention.grid["rollout"])
    w.attention.visible.setChecked(False)
    assert not overlay.isVisible()

    # the long clip is scored per window, pooled, and shown on the timeline
    assert w.analysis.windows is not None
    assert w.timeline.isVisible()
    w.labels.k.setValue(2)
    assert len(label_rows(w.labels)) == 2
    w.labels.threshold.setValue(1.0)
    assert label_rows(w.labels) == [] or all(s >= 1.0 for _, s in label_rows(w.labels))


def test_long_clip_per_window_and_label_selection(qtbot, tiny_model, long_wav):
    w = make_window(qtbot, tiny_model)
    w.open_files([str(long_wav)])
    wait_classified(qtbot, w)
    table = w.analysis.windows
    assert table is not None and len(table.starts) >= 5
    assert table.ends[-1] == pytest.approx(4.0)  # the last window reaches the end: no crop
    assert "max over" in w.analysis.pooling
    np.testing.assert_allclose(w.analysis.scores, table.scores.max(axis=0))
    label = label_rows(w.labels)[-1][0]
    best = int(table.scores[:, w.analysis.labels.index(label)].argmax())
    w.labels.list.setCurrentRow(w.labels.list.count() - 1)
    qtbot.waitUntil(lambda: w.spectrogram.overlay.attention.offset_s
                    == pytest.approx(table.starts[best]), timeout=WAIT_MS)
    assert w.timeline.label_index == w.analysis.labels.index(label)


def test_drag_and_drop_opens_file(qtbot, tiny_model, tone_wav):
    w = make_window(qtbot, tiny_model)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tone_wav))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    w.dropEvent(event)
    wait_classified(qtbot, w)
    assert w.clip.path == str(tone_wav)
    assert w.files.count() == 1
    assert w.settings.get("recent_files")[0] == str(tone_wav)


def test_bad_file_message_and_app_keeps_working(qtbot, tiny_model, tmp_path, tone_wav):
    bad = write_bad_corpus(tmp_path / "bad")
    w = make_window(qtbot, tiny_model)
    w.open_files([str(bad["random_wav"])])
    qtbot.waitUntil(lambda: message_text(w) is not None, timeout=WAIT_MS)
    assert "not an audio file" in message_text(w)
    assert str(bad["random_wav"].name) in message_text(w)
    w.open_files([str(bad["nan_float"])])  # a second error queues behind the first
    qtbot.waitUntil(lambda: len(w.errors._queue) == 1, timeout=WAIT_MS)
    assert "not an audio file" in message_text(w)  # still one box at a time
    close_message(w)
    assert "NaN" in message_text(w)
    close_message(w)
    assert message_text(w) is None
    w.open_files([str(tone_wav)])  # still alive and working
    wait_classified(qtbot, w)
    assert w.clip.path == str(tone_wav)


def test_no_model_state_says_so_and_shows_no_scores(qtbot, tone_wav):
    w = make_window(qtbot)
    assert w.model_state == "none"
    assert w.banner.isVisible()
    assert "No model is installed" in w.banner.text.text()
    assert "No model is installed" in w.labels.status.text()
    w.open_files([str(tone_wav)])
    qtbot.waitUntil(lambda: w.spectrogram.spectrogram is not None, timeout=WAIT_MS)
    assert w.analysis is None and label_rows(w.labels) == []  # a spectrogram, but never scores


def test_settings_are_remembered(qtbot, tiny_model, tone_wav):
    w = make_window(qtbot, tiny_model)
    w.display.colormap.setCurrentText("magma")
    w.labels.k.setValue(3)
    w.display.db_range.setValue((-50, 10))
    w.open_files([str(tone_wav)])
    wait_classified(qtbot, w)
    w.close()
    w2 = make_window(qtbot)
    assert w2.display.colormap.currentText() == "magma"
    assert w2.spectrogram.colormap_name == "magma"
    assert w2.labels.k.value() == 3
    assert w2.spectrogram.levels == (-50.0, 10.0)
    assert w2.settings.get("last_folder") == str(tone_wav.parent)
    assert w2.model_path == str(tiny_model)  # the model loaded last time loads again
