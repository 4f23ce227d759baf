"""The sliding-window rules (`ast_core.run.windows`) on known answers: which windows, the
defaults, short audio, and how window scores pool into clip scores."""

from __future__ import annotations

import numpy as np
import pytest

from ast_core.run.windows import (
    POOLING,
    WindowScores,
    iter_windows,
    to_samples,
    window_and_hop,
    window_starts,
)


@pytest.mark.parametrize(
    "num_samples, win, hop, starts",
    [
        (10, 4, 2, [0, 2, 4, 6]),  # the last window ends exactly at the end
        (11, 4, 2, [0, 2, 4, 6, 7]),  # one more window, ending at the end of the audio
        (12, 4, 4, [0, 4, 8]),
        (13, 4, 4, [0, 4, 8, 9]),
        (4, 4, 2, [0]),  # exactly one window
        (3, 4, 2, [0]),  # shorter than a window: one window, of the real samples
        (0, 4, 2, [0]),
        (9, 4, 10, [0, 5]),  # a hop longer than the window skips audio, but the end is scored
    ],
)
def test_window_starts_known_answers(num_samples, win, hop, starts):
    assert window_starts(num_samples, win, hop).tolist() == starts


@pytest.mark.parametrize("block", [1, 3, 5, 100])
@pytest.mark.parametrize("num_samples, win, hop",
                         [(11, 4, 2), (13, 4, 4), (4, 4, 1), (3, 4, 2), (9, 4, 10), (23, 4, 6)])
def test_streamed_windows_are_the_whole_signals_windows(num_samples, win, hop, block):
    x = np.arange(num_samples, dtype=np.float32)
    blocks = [x[i : i + block] for i in range(0, num_samples, block)]
    got = list(iter_windows(blocks, win, hop))
    assert [s for s, _ in got] == window_starts(num_samples, win, hop).tolist()
    for start, w in got:
        assert w.tolist() == x[start : start + win].tolist()


def test_short_audio_is_one_unpadded_window():
    [(start, w)] = iter_windows([np.ones(3, np.float32)], win=10, hop=5)
    assert start == 0 and w.tolist() == [1.0, 1.0, 1.0]


def test_defaults_are_the_models_window_and_half_of_it():
    assert window_and_hop(10.24) == (10.24, 5.12)
    assert window_and_hop(10.24, 2.0) == (2.0, 1.0)
    assert window_and_hop(10.24, None, 0.25) == (10.24, 0.25)
    assert window_and_hop(10.24, 2.0, 0.5) == (2.0, 0.5)
    assert to_samples(1.28, 0.64, 16000) == (20480, 10240)
    assert to_samples(1.0, 1e-9, 16000) == (16000, 1)  # the hop is at least one sample


def test_window_scores_pool_by_max_for_multi_label_and_mean_for_single_label():
    scores = np.array([[0.1, 0.9, 0.3], [0.5, 0.2, 0.3], [0.3, 0.1, 0.9]], np.float32)
    ws = WindowScores(np.array([0.0, 1.0, 2.0]), np.array([2.0, 3.0, 4.0]), scores)
    np.testing.assert_allclose(ws.pooled("multi"), [0.5, 0.9, 0.9])
    np.testing.assert_allclose(ws.pooled("single"), [0.3, 0.4, 0.5])
    assert POOLING == {"multi": "max", "single": "mean"}
    one = WindowScores(np.zeros(1), np.ones(1), scores[:1])
    assert one.pooled("multi").tolist() == one.pooled("single").tolist() == scores[0].tolist()


def test_parts_concatenate_in_order():
    a = WindowScores(np.array([0.0, 1.0]), np.array([2.0, 3.0]), np.zeros((2, 3)))
    b = WindowScores(np.array([2.0]), np.array([4.0]), np.ones((1, 3)))
    ws = WindowScores.concat([a, b])
    assert ws.starts.tolist() == [0.0, 1.0, 2.0] and ws.ends.tolist() == [2.0, 3.0, 4.0]
    assert ws.scores[:, 0].tolist() == [0.0, 0.0, 1.0]
