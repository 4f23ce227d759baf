"""From per-window scores to sound events with start and end times.

Windows overlap, so each stretch of time between window boundaries is scored by the *least*
confident of the windows that cover it: a sound makes every window containing it fire, while a
stretch beside it is also covered by a window without the sound. This localises an event to
within one hop. Stretches above the threshold form events; events closer than `merge_gap_s`
are merged and those shorter than `min_duration_s` dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Event:
    label: str
    start_s: float
    end_s: float
    score: float  # highest stretch score inside the event

    def to_dict(self) -> dict:
        return asdict(self)


def stretch_scores(
    starts: np.ndarray, ends: np.ndarray, scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Boundaries `(n+1,)` of the stretches between window edges and their scores `(n, labels)`.

    Window starts and ends must be non-decreasing (as `score_windows` returns them).
    """
    edges = np.unique(np.concatenate([starts, ends]))
    rows = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        first = np.searchsorted(ends, b, side="left")  # windows ending at or after b
        last = np.searchsorted(starts, a, side="right")  # windows starting at or before a
        covering = scores[first:last]
        rows.append(covering.min(axis=0) if len(covering) else np.zeros(scores.shape[1]))
    return edges, np.asarray(rows, dtype=np.float32).reshape(len(rows), scores.shape[1])


def detect_events(
    starts: np.ndarray,
    ends: np.ndarray,
    scores: np.ndarray,
    labels: list[str],
    threshold: float = 0.5,
    min_duration_s: float = 0.0,
    merge_gap_s: float = 0.0,
    only: Iterable[str] | None = None,
) -> list[Event]:
    """Events sorted by start time, from window scores `(windows, labels)`."""
    if len(scores) == 0:
        return []
    edges, stretch = stretch_scores(np.asarray(starts), np.asarray(ends), np.asarray(scores))
    wanted = set(only) if only is not None else None
    events: list[Event] = []
    for j, label in enumerate(labels):
        if wanted is not None and label not in wanted:
            continue
        runs: list[list[float]] = []  # [start, end, score]
        for i in np.flatnonzero(stretch[:, j] >= threshold):
            a, b, s = float(edges[i]), float(edges[i + 1]), float(stretch[i, j])
            if runs and a - runs[-1][1] <= merge_gap_s + 1e-9:
                runs[-1][1] = b
                runs[-1][2] = max(runs[-1][2], s)
            else:
                runs.append([a, b, s])
        events += [Event(label, a, b, s) for a, b, s in runs if b - a >= min_duration_s - 1e-9]
    return sorted(events, key=lambda e: (e.start_s, e.label))
