"""The Record dialog on the core microphone stack (`ast_core.live.take`) with real PortAudio
streams: bit-exact through an ALSA file-backed microphone, in real time through the PulseAudio
virtual microphone, at a device's own rate, and with no microphone at all."""

from __future__ import annotations

import numpy as np

from ast_core.audio import SAMPLE_RATE
from tests.support import live_fixtures
from tests.support.gui_helpers import (
    WAIT_MS,
    close_message,
    label_rows,
    make_window,
    message_text,
)
from tests.support.live_fixtures import (
    ScenePlayer,
    chirp_clip,
    refuse_model_rate,
    scene,
    tone_onset,
)

virtual_mic = live_fixtures.virtual_mic
N = 24_000  # the fed clip: 1.5 s at 16 kHz


def record_until_full(qtbot, dialog, seconds: float = 2.0) -> None:
    """Start a take of at most `seconds` and wait until it stopped by itself."""
    dialog.max_seconds = seconds
    assert dialog.has_device and dialog.start_button.isEnabled()
    dialog.start_button.click()
    assert dialog.stop_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.take is None, timeout=WAIT_MS)  # the file mic fills it
    assert dialog.use_button.isEnabled() and "longest take" in dialog.message.text()


def test_record_dialog_then_classify(qtbot, alsa_file_mic, tiny_model, tmp_path):
    fed = chirp_clip(N)
    alsa_file_mic(fed)
    w = make_window(qtbot, tiny_model)
    dialog = w.dialogs.record()
    record_until_full(qtbot, dialog)
    assert dialog.level.value() > -60  # the meter moved
    assert dialog.rate == SAMPLE_RATE and len(dialog.samples) == 2 * SAMPLE_RATE
    dialog.use_button.click()
    qtbot.waitUntil(lambda: w.analysis is not None, timeout=WAIT_MS)
    assert w.clip.path is None and w.clip.name.startswith("Recording")
    np.testing.assert_array_equal(w.clip.samples[:N], fed.astype(np.float32) / 32768)
    assert len(label_rows(w.labels)) == 5
    assert w.spectrogram.overlay.grid_map.shape == (12, 12)

    out = tmp_path / "take.wav"  # the recording can be saved as WAV
    w.save_wav(str(out))
    qtbot.waitUntil(out.exists, timeout=WAIT_MS)
    import soundfile as sf

    saved, rate = sf.read(out, dtype="int16")
    assert rate == SAMPLE_RATE
    np.testing.assert_array_equal(saved[:N], fed)


def test_recording_at_the_device_rate_opens_like_a_file_at_that_rate(
        qtbot, alsa_file_mic, tiny_model, tmp_path, monkeypatch):
    """A device that refuses 16 kHz is recorded at its own rate; the window resamples the take
    with the same resampler as a file, so both give the same samples."""
    import soundfile as sf

    from ast_core.audio.decode import load_audio

    refuse_model_rate(monkeypatch)
    fed = chirp_clip(N)
    alsa_file_mic(fed)
    w = make_window(qtbot, tiny_model)
    dialog = w.dialogs.record()
    record_until_full(qtbot, dialog)
    rate = dialog.rate
    assert rate != SAMPLE_RATE and len(dialog.samples) == 2 * rate
    np.testing.assert_array_equal(dialog.samples[:N], fed.astype(np.float32) / 32768)
    pcm = np.round(dialog.samples * 32768).astype(np.int16)  # the take, exactly, as a file
    sf.write(tmp_path / "same.wav", pcm, rate, subtype="PCM_16")
    dialog.use_button.click()
    qtbot.waitUntil(lambda: w.clip is not None, timeout=WAIT_MS)
    assert len(w.clip.samples) == 2 * SAMPLE_RATE
    np.testing.assert_array_equal(w.clip.samples, load_audio(tmp_path / "same.wav"))


def test_record_and_stop_in_real_time(qtbot, virtual_mic, tiny_model):
    """Stop ends a take on a real-time microphone: what was played is in it, nothing after."""
    w = make_window(qtbot, tiny_model)
    dialog = w.dialogs.record()
    dialog.device.setCurrentText("pulse")
    levels = []
    dialog.level.valueChanged.connect(levels.append)
    dialog.start_button.click()
    take = dialog.take
    qtbot.waitUntil(lambda: take.mic.ring.written > 0, timeout=WAIT_MS)
    samples, marks = scene([(0.5, False), (1.0, True)])
    player = ScenePlayer(samples, marks).start()
    try:
        qtbot.waitUntil(lambda: player.done, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: take.seconds > 2.0, timeout=WAIT_MS)
    finally:
        player.stop()
    assert dialog.time.text() != "0.0 s" and max(levels) > -40  # noise at -26 dBFS, a beep
    dialog.stop_button.click()
    assert dialog.take is None and not take.mic.running
    recorded = dialog.samples
    assert dialog.rate == SAMPLE_RATE and len(recorded) == take.mic.ring.written
    assert tone_onset(recorded, SAMPLE_RATE) > 0  # the beep that was played is in the take
    dialog.use_button.click()
    qtbot.waitUntil(lambda: w.clip is not None, timeout=WAIT_MS)
    np.testing.assert_array_equal(w.clip.samples, recorded)  # 16 kHz: opened as it is


def test_no_input_device_gives_a_clear_message(qtbot, monkeypatch):
    import sounddevice as sd

    monkeypatch.setattr(sd, "query_devices", lambda *a, **k: [])
    w = make_window(qtbot)
    dialog = w.dialogs.record()
    qtbot.waitUntil(lambda: message_text(w) is not None, timeout=WAIT_MS)
    assert "No microphone was found" in message_text(w)
    assert not dialog.start_button.isEnabled()
    assert "No microphone" in dialog.message.text()
    dialog.reject()
    close_message(w)
    assert w.isVisible()  # and the window keeps working
