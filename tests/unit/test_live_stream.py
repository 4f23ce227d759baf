"""Live tagging without Qt: the ring, the newest-window analyzer, a recorded take, and a
real-time virtual mic.

Real time comes from a private PulseAudio daemon (tests/support/live_fixtures.py): the test
plays a scene into a null sink from a low-latency output stream and notes when each beep onset
was handed to the sink ("the outside clock"); `MicStream` captures the sink's monitor through
the ALSA `pulse` device. The beep model (tests/support/beep_model.py) knows the answer. A take
is checked bit-exact through ALSA's file plugin (`alsa_file_mic` in tests/conftest.py).
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

from ast_core.audio import SAMPLE_RATE
from ast_core.audio.decode import load_audio
from ast_core.audio.resample import resample
from ast_core.live.analyzer import LiveAnalyzer, LiveConfig
from ast_core.live.feeder import RealTimeFeeder
from ast_core.live.microphone import LiveError, MicStream
from ast_core.live.ring import FrameRing, RingCursor
from ast_core.live.take import Take
from ast_core.live.threads import live_threads, torch_threads
from ast_core.run.classifier import Classifier
from tests.support import live_fixtures
from tests.support.live_fixtures import (
    ScenePlayer,
    chirp_clip,
    refuse_model_rate,
    scene,
    tone_onset,
)

WINDOW, HOP = 1.0, 0.25
TRANSPORT_S = 0.10  # stated tolerance: PulseAudio transport + 20-ms blocks, outside vs inside
virtual_mic = live_fixtures.virtual_mic


def collapse(labels: list[str]) -> list[str]:
    return [x for i, x in enumerate(labels) if i == 0 or labels[i - 1] != x]


def wait_for_audio(mic: MicStream, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while mic.ring.stamp[0] == 0:
        assert time.monotonic() < deadline, "the virtual microphone delivered no audio"
        time.sleep(0.02)


class SlowScorer:
    """A classifier that takes `delay` seconds longer per window: analysis slower than the hop."""

    def __init__(self, inner: Classifier, delay: float):
        self.inner, self.delay = inner, delay
        self.labels, self.fbank = inner.labels, inner.fbank

    def score_batch(self, waves: np.ndarray) -> np.ndarray:
        time.sleep(self.delay)
        return self.inner.score_batch(waves)


def test_ring_keeps_the_newest_frames_and_their_capture_time():
    ring = FrameRing(8, SAMPLE_RATE)
    ring.write(np.arange(5, dtype=np.float32), 1.0)
    assert ring.stamp == (5, 1.0)
    assert ring.read(5, 3).tolist() == [2, 3, 4]
    assert ring.read(5, 7).tolist() == [0, 0, 0, 1, 2, 3, 4]  # zeros before the first frame
    ring.write(np.arange(5, 15, dtype=np.float32), 2.0)  # wraps; the oldest are overwritten
    assert ring.stamp == (15, 2.0)
    assert ring.read(15, 8).tolist() == list(range(7, 15))
    ring.write(np.arange(15, 35, dtype=np.float32), 3.0)  # more than fits: the newest 8 kept
    assert ring.stamp == (35, 3.0)
    assert ring.read(35, 8).tolist() == list(range(27, 35))
    with pytest.raises(ValueError):
        ring.read(35, 9)


def test_ring_cursor_hands_out_each_frame_once_and_counts_what_it_missed():
    ring = FrameRing(8, SAMPLE_RATE)
    cursor = RingCursor(ring)
    assert cursor.new().tolist() == []
    ring.write(np.arange(5, dtype=np.float32), 1.0)
    assert cursor.new().tolist() == [0, 1, 2, 3, 4]
    ring.write(np.arange(5, 11, dtype=np.float32), 2.0)  # wraps round the end of the buffer
    assert cursor.new().tolist() == list(range(5, 11))
    ring.write(np.arange(11, 23, dtype=np.float32), 3.0)  # 12 new: 4 overwritten unread
    assert cursor.new().tolist() == list(range(15, 23))
    assert cursor.lost == 4 and cursor.new().tolist() == []


def test_take_keeps_the_whole_recording_exactly_and_stops_when_full(alsa_file_mic):
    """ALSA's file plugin feeds a known clip through a real PortAudio stream far faster than
    real time: a take's ring never wraps, so its first frames survive; capture stops by itself
    at the take's length and what `new_audio()` handed out adds up to the take."""
    clip = chirp_clip()
    alsa_file_mic(clip)
    take = Take(max_seconds=2.0)
    take.start()
    pieces = []
    deadline = time.monotonic() + 10
    while not take.full:
        assert time.monotonic() < deadline, "the take did not fill"
        pieces.append(take.new_audio())
        time.sleep(0.005)
    assert take.failed is None  # stopping when full is not a failure
    samples = take.stop()
    pieces.append(take.new_audio())
    assert take.rate == SAMPLE_RATE and len(samples) == 2 * SAMPLE_RATE
    np.testing.assert_array_equal(samples[: len(clip)], clip.astype(np.float32) / 32768)
    np.testing.assert_array_equal(np.concatenate(pieces), samples)


def test_a_recording_resamples_exactly_like_a_file_at_its_rate(tmp_path):
    """A take at a device's 44.1 kHz goes through the same resampler as a 44.1-kHz file."""
    import soundfile as sf

    pcm = np.random.default_rng(3).integers(-20_000, 20_000, 2 * 44_100).astype(np.int16)
    take = pcm.astype(np.float32) / 32768  # what `MicStream` makes of those 16-bit frames
    sf.write(tmp_path / "take.wav", pcm, 44_100, subtype="PCM_16")
    from_take = resample(take, 44_100)
    assert len(from_take) == 2 * SAMPLE_RATE
    np.testing.assert_array_equal(from_take, load_audio(tmp_path / "take.wav"))
    assert resample(from_take, SAMPLE_RATE) is from_take  # already at the model's rate


class Filled:
    """A source whose ring already holds a clip (no real time): for exact, fast checks."""

    failed = None

    def __init__(self, x: np.ndarray, rate: int):
        self.ring = FrameRing(30 * rate, rate)
        self.ring.write(x, time.monotonic())


def test_long_window_and_native_rate_windows_are_scored_correctly(beep_model):
    """A 4-s window over a 1-s model is scored as 1-s pieces (max per label), so a beep in its
    oldest second counts; 48-kHz audio is resampled to 16 kHz before scoring."""
    from scipy.signal import resample_poly

    samples, _ = scene([(1.0, False), (0.5, True), (2.5, False)])
    classifier = Classifier.load(beep_model)
    for rate in (SAMPLE_RATE, 48_000):
        x = samples if rate == SAMPLE_RATE else resample_poly(samples, 3, 1).astype(np.float32)
        long = LiveAnalyzer(classifier, Filled(x, rate), LiveConfig(window_s=4.0, hop_s=0.5))
        assert long.step().top[0][0] == "beep"
        short = LiveAnalyzer(classifier, Filled(x, rate), LiveConfig(window_s=1.0, hop_s=0.5))
        assert short.step().top[0][0] == "background"  # the beep is 2.5 s old


def test_filter_hides_labels_but_events_follow_their_own_list(beep_model):
    samples, _ = scene([(0.5, False), (0.5, True)])
    config = LiveConfig(window_s=1.0, hop_s=0.5, label_filter=frozenset({"background"}),
                        event_labels=frozenset({"beep"}))
    r = LiveAnalyzer(Classifier.load(beep_model), Filled(samples, SAMPLE_RATE), config).step()
    assert r.top == [] and r.scores[0] == 0  # beep is filtered out of the shown labels...
    assert [e.label for e in r.events] == ["beep"]  # ...but its crossing is still logged


def test_scene_labels_follow_the_beep_and_latency_matches_outside_clock(
        virtual_mic, beep_model, tmp_path):
    """Noise 3 s, beep+noise 3 s, noise 3 s in real time; window 1 s, hop 0.25 s."""
    samples, marks = scene([(3, False), (3, True), (3, False)])
    config = LiveConfig(window_s=WINDOW, hop_s=HOP, top_k=1, threshold=0.5,
                        event_labels=frozenset({"beep"}), snippet_dir=tmp_path / "snippets")
    mic = MicStream("pulse")
    mic.start()
    analyzer = LiveAnalyzer(Classifier.load(beep_model), mic, config)
    analyzer.warm_up()
    wait_for_audio(mic)
    player = ScenePlayer(samples, marks).start()
    seen: list[tuple[float, object]] = []  # (monotonic time the test saw it, Analysis)
    deadline = time.monotonic() + 30

    def finished() -> bool:  # the window after the beep's end has been analysed
        off = player.played.get("off1", deadline)
        return time.monotonic() > min(off + WINDOW + HOP + 1.0, deadline)

    try:
        for r in analyzer.results(finished):
            seen.append((time.monotonic(), r))
        end = mic.ring.stamp[0]
        captured = mic.ring.read(end, min(end, mic.ring.capacity))
    finally:
        player.stop()
        mic.stop()
    results = [r for _, r in seen]
    top1 = [r.top[0][0] for r in results]
    assert collapse(top1) == ["background", "beep", "background"], collapse(top1)
    assert mic.overruns == 0 and mic.status_flags == 0
    assert results[-1].dropped == 0
    # the beep model takes a few ms per window; PulseAudio's start-up delivers its first
    # second in a burst (old capture times), so steady state is judged after it
    lat = np.array([r.latency_ms for r in results if r.time_s > results[0].time_s + 1.0])
    assert np.percentile(lat, 95) < 250, lat

    on, off = player.played["on1"], player.played["off1"]
    i_on = top1.index("beep")
    i_off = i_on + top1[i_on:].index("background")
    seen_on, r_on = seen[i_on]
    seen_off, r_off = seen[i_off]
    # the label changes within window + hop + measured latency of the sound (outside clock)
    assert 0 < seen_on - on <= WINDOW + HOP + r_on.latency_ms / 1000 + TRANSPORT_S
    assert 0 < seen_off - off <= WINDOW + HOP + r_off.latency_ms / 1000 + TRANSPORT_S

    # the reported capture times agree with the outside clock: locate the beep onset in the
    # captured audio, date it with the analyzer's timestamps, compare with when it was played
    onset = end - len(captured) + tone_onset(captured, SAMPLE_RATE)  # ring frame index
    newest = round(r_on.time_s * SAMPLE_RATE)  # ring frame index of the newest analysed sample
    t_onset_inside = r_on.capture_time - (newest - onset) / SAMPLE_RATE
    assert abs(t_onset_inside - on) < TRANSPORT_S, (t_onset_inside - on)
    # ... so the latency readout equals what the outside measures for the same sample
    outside_ms = (seen_on - (on + (newest - onset) / SAMPLE_RATE)) * 1000
    assert abs(outside_ms - r_on.latency_ms) < TRANSPORT_S * 1000 + 20, (outside_ms, r_on)

    events = [e for r in results for e in r.events]
    assert [e.label for e in events] == ["beep"]
    assert onset / SAMPLE_RATE <= events[0].time_s <= onset / SAMPLE_RATE + HOP + 0.5
    import soundfile as sf

    snippet, rate = sf.read(events[0].snippet, dtype="float32")
    assert rate == SAMPLE_RATE
    assert len(snippet) == round(2.0 * SAMPLE_RATE)  # window + 1 s before it
    assert tone_onset(snippet, SAMPLE_RATE) > 0  # the beep is in it


def test_analysis_slower_than_the_hop_drops_stale_windows_without_backlog(beep_model):
    """Each analysis takes 0.6 s + the model, the hop is 0.25 s: most hops are skipped, the
    analysed window is always the newest, and latency does not grow."""
    rng = np.random.default_rng(1)
    feeder = RealTimeFeeder(0.05 * rng.standard_normal(5 * SAMPLE_RATE).astype(np.float32))
    analyzer = LiveAnalyzer(SlowScorer(Classifier.load(beep_model), 0.6), feeder,
                            LiveConfig(window_s=WINDOW, hop_s=HOP))
    feeder.start()
    t0 = time.monotonic()
    results = []
    lag_frames = []  # audio that arrived while an analysis ran: the most a backlog could hold
    try:
        for r in analyzer.results(lambda: time.monotonic() - t0 > 7.0):
            results.append(r)
            lag_frames.append(feeder.ring.stamp[0] - round(r.time_s * SAMPLE_RATE))
    finally:
        feeder.stop()
    hops = round(results[-1].time_s / HOP)
    assert results[-1].dropped >= hops // 2, (results[-1].dropped, hops)
    assert len(results) + results[-1].dropped >= hops - 2  # every hop analysed or counted
    per_step = np.diff([0] + [r.dropped for r in results])
    assert per_step.max() <= 4  # ceil(0.6 / 0.25) + 1: no queue of windows builds up
    lat = np.array([r.latency_ms for r in results])
    assert lat.max() < (0.6 + HOP + 0.6) * 1000, lat  # sleep + hop + a loaded machine
    third = len(lat) // 3
    assert lat[-third:].mean() < lat[:third].mean() + 250, lat  # not growing
    assert max(lag_frames) < 1.5 * SAMPLE_RATE
    assert all(r.rtf > 1 for r in results)


def test_native_rate_capture_is_resampled(virtual_mic, beep_model, monkeypatch):
    """A device that refuses 16 kHz: capture at its own rate, resample in the analysis step."""

    refuse_model_rate(monkeypatch)
    samples, marks = scene([(1.5, False), (2.0, True)])
    mic = MicStream("pulse")
    mic.start()
    assert mic.rate != SAMPLE_RATE
    analyzer = LiveAnalyzer(Classifier.load(beep_model), mic,
                            LiveConfig(window_s=WINDOW, hop_s=HOP, top_k=1))
    wait_for_audio(mic)
    player = ScenePlayer(samples, marks).start()
    labels = []
    try:
        for r in analyzer.results(lambda: player.done or "beep" in labels):
            labels.append(r.top[0][0])
    finally:
        player.stop()
        mic.stop()
    assert labels[0] == "background" and labels[-1] == "beep", labels


def test_device_that_disappears_stops_with_a_clear_message(virtual_mic, beep_model):
    mic = MicStream("pulse")
    mic.start()
    wait_for_audio(mic)
    analyzer = LiveAnalyzer(Classifier.load(beep_model), mic, LiveConfig(window_s=1, hop_s=0.25))
    os.kill(virtual_mic.pid, signal.SIGKILL)  # "unplug" the microphone
    t0 = time.monotonic()
    with pytest.raises(LiveError, match="unplugged"):
        for _ in analyzer.results(lambda: time.monotonic() - t0 > 15):
            pass
    assert time.monotonic() - t0 < 10
    mic.stop()


def test_no_input_device_is_a_clear_error(monkeypatch):
    import sounddevice as sd

    monkeypatch.setattr(sd, "query_devices", lambda *a, **k: [])
    with pytest.raises(LiveError, match="No microphone was found"):
        MicStream().start()

    def broken(*args, **kwargs):
        raise sd.PortAudioError("Error querying device -1")

    monkeypatch.setattr(sd, "query_devices", broken)
    with pytest.raises(LiveError, match="audio system could not be opened"):
        Take().start()


def test_live_thread_count_holds_inside_the_block_only():
    """Live analysis leaves a core free; the file analysis after it gets every core back."""
    import torch

    before = torch.get_num_threads()
    with pytest.raises(KeyboardInterrupt), torch_threads(live_threads()):
        assert torch.get_num_threads() == max(1, os.cpu_count() - 1)
        raise KeyboardInterrupt  # as when the worker is stopped
    assert torch.get_num_threads() == before
    # a stopped run that ends after the next one started must not take the count back
    old_run, new_run = torch_threads(1), torch_threads(1)
    old_run.__enter__()
    new_run.__enter__()
    old_run.__exit__(None, None, None)
    assert torch.get_num_threads() == 1
    new_run.__exit__(None, None, None)
    assert torch.get_num_threads() == before


def test_live_bench_reports_cost(beep_model):
    from bench.live_latency import format_report, run_live_bench

    rep = run_live_bench(str(beep_model), window_s=1.0, hop_s=0.25, seconds=2.5)
    assert rep["analyses"] >= 6 and rep["timing_only"] is False
    assert rep["analysis_ms"]["p50"] > 0 and rep["latency_ms"]["p95"] >= rep["latency_ms"]["p50"]
    assert rep["rtf_p50"] < 1 and rep["sustainable"] and rep["dropped"] == 0
    assert "latency" in format_report(rep)
