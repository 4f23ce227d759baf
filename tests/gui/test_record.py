"""Recording through an ALSA file-backed microphone (bit-exact), and the no-microphone case."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app.gui.dialogs.recorder import Recorder, RingBuffer
from tests.support.gui_helpers import WAIT_MS, make_window

N = 24_000  # 1.5 s at 16 kHz


@pytest.fixture
def fed_clip():
    """Noise with a chirp: nothing periodic, so a shifted or repeated capture cannot pass."""
    rng = np.random.default_rng(7)
    t = np.arange(N) / 16_000
    x = 0.3 * np.sin(2 * np.pi * (200 + 900 * t) * t) + 0.05 * rng.standard_normal(N)
    return np.round(np.clip(x, -1, 1) * 32767).astype(np.int16)


def test_ring_buffer_keeps_order_and_counts_drops():
    ring = RingBuffer(8)
    ring.write(np.arange(5, dtype=np.float32))
    assert ring.read_all().tolist() == [0, 1, 2, 3, 4]
    ring.write(np.arange(5, 15, dtype=np.float32))  # wraps; 2 frames do not fit
    assert ring.dropped == 2
    assert ring.read_all().tolist() == list(range(5, 13))


def test_recorder_captures_the_fed_clip_exactly(alsa_file_mic, fed_clip):
    alsa_file_mic(fed_clip)
    rec = Recorder()
    rec.start()
    deadline = time.monotonic() + 10
    while rec.seconds < N / 16_000 and time.monotonic() < deadline:
        time.sleep(0.02)
        rec.drain()
    samples = rec.stop()
    assert rec.rate == 16_000
    np.testing.assert_array_equal(samples[:N], fed_clip.astype(np.float32) / 32768)


def test_record_dialog_then_classify(qtbot, alsa_file_mic, fed_clip, tiny_model, tmp_path):
    alsa_file_mic(fed_clip)
    w = make_window(qtbot, tiny_model)
    w.record()
    dialog = w.record_dialog
    assert dialog.has_device and dialog.start_button.isEnabled()
    dialog.start_button.click()
    assert dialog.stop_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.recorder.seconds >= N / 16_000, timeout=WAIT_MS)
    assert dialog.level.value() > -60  # the meter moved
    dialog.stop_button.click()
    assert dialog.use_button.isEnabled()
    dialog.use_button.click()
    qtbot.waitUntil(lambda: w.analysis is not None, timeout=WAIT_MS)
    assert w.clip.path is None and w.clip.name.startswith("Recording")
    np.testing.assert_array_equal(w.clip.samples[:N], fed_clip.astype(np.float32) / 32768)
    assert len(w.labels.rows()) == 5
    assert w.spectrogram.overlay.grid_map.shape == (12, 12)

    out = tmp_path / "take.wav"  # the recording can be saved as WAV
    w.save_wav(str(out))
    qtbot.waitUntil(out.exists, timeout=WAIT_MS)
    import soundfile as sf

    saved, rate = sf.read(out, dtype="int16")
    assert rate == 16_000
    np.testing.assert_array_equal(saved[:N], fed_clip)


def test_no_input_device_gives_a_clear_message(qtbot, monkeypatch):
    import app.gui.dialogs.recorder

    monkeypatch.setattr(app.gui.dialogs.recorder, "input_devices", lambda: [])
    w = make_window(qtbot)
    w.record()
    qtbot.waitUntil(lambda: w.errors.current_text is not None, timeout=WAIT_MS)
    assert "No microphone was found" in w.errors.current_text
    dialog = w.record_dialog
    assert not dialog.start_button.isEnabled()
    assert "No microphone" in dialog.message.text()
    dialog.reject()
    w.errors.close_current()
    assert w.isVisible()  # and the window keeps working
