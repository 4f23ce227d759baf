"""Labeled clips from a folder tree or a CSV manifest; pre-flight checks; train/val splits.

A data source is either
- a folder whose first-level subfolders are the labels (single-label; files may sit in nested
  subfolders below the label folder), or
- a CSV manifest with columns `path,labels`: `;`-separated labels per row (multi-label when any
  row has more than one), relative paths resolved against the CSV's folder.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ast_core.audio import SAMPLE_RATE
from ast_core.audio.decode import is_audio_path, load_audio, probe
from ast_core.errors import AstStudioError, AudioError


class DataError(AstStudioError):
    """A data set that cannot be trained on; the message says what to fix."""


@dataclass(frozen=True)
class LabeledClip:
    """One training file and its label names (not the app's decoded `Clip`)."""

    path: str
    labels: tuple[str, ...]


@dataclass
class LabeledSet:
    """Clips with their labels; `labels` is the sorted label vocabulary."""

    clips: list[LabeledClip]
    labels: list[str]
    multi_label: bool
    source: str

    def targets(self, clips: Sequence[LabeledClip] | None = None) -> np.ndarray:
        """`(clips, labels)` 0/1 matrix."""
        index = {name: i for i, name in enumerate(self.labels)}
        clips = self.clips if clips is None else clips
        y = np.zeros((len(clips), len(self.labels)), np.float32)
        for row, clip in enumerate(clips):
            for name in clip.labels:
                y[row, index[name]] = 1.0
        return y


def _audio_files(folder: Path) -> list[Path]:
    """Audio files below `folder` (any depth, hidden names skipped), in a stable order."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        out += [Path(dirpath) / f for f in sorted(filenames)
                if not f.startswith(".") and is_audio_path(f)]
    return out


def scan_folder(root: str | Path) -> LabeledSet:
    """One label per first-level subfolder of `root`."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: data folder not found")
    clips = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        clips += [LabeledClip(str(f), (sub.name,)) for f in _audio_files(sub)]
    labels = sorted({c.labels[0] for c in clips})
    return LabeledSet(clips, labels, multi_label=False, source=str(root))


def read_manifest(csv_path: str | Path) -> LabeledSet:
    """Rows `path,labels` (header optional); labels separated by `;`."""
    csv_path = Path(csv_path)
    try:
        text = csv_path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise DataError(f"{csv_path}: cannot read manifest ({e.strerror or e})") from None
    clips = []
    for n, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not "".join(row).strip():
            continue
        if n == 1 and [c.strip().lower() for c in row[:2]] == ["path", "labels"]:
            continue
        if len(row) < 2:
            raise DataError(f"{csv_path}, line {n}: expected `path,labels`")
        names = tuple(sorted({s.strip() for s in row[1].split(";") if s.strip()}))
        if not names:
            raise DataError(f"{csv_path}, line {n}: no label for {row[0]!r}")
        path = Path(row[0].strip())
        path = path if path.is_absolute() else csv_path.parent / path
        clips.append(LabeledClip(str(path), names))
    labels = sorted({name for c in clips for name in c.labels})
    multi = any(len(c.labels) > 1 for c in clips)
    return LabeledSet(clips, labels, multi_label=multi, source=str(csv_path))


def load_source(path: str | Path) -> LabeledSet:
    """A folder tree or a `.csv` manifest."""
    path = Path(path)
    if path.suffix.lower() == ".csv" and path.is_file():
        return read_manifest(path)
    return scan_folder(path)


# ---------------------------------------------------------------- pre-flight


@dataclass
class PreflightReport:
    """What a data set holds and which files cannot be used (and why)."""

    data: LabeledSet
    usable: list[LabeledClip] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    durations: dict[str, float] = field(default_factory=dict)  # path -> seconds
    sample_rates: Counter = field(default_factory=Counter)

    def clips_per_label(self) -> dict[str, int]:
        counts = Counter(name for c in self.usable for name in c.labels)
        return {name: counts.get(name, 0) for name in self.data.labels}

    def duration_summary(self) -> dict[str, float]:
        d = np.array([self.durations[c.path] for c in self.usable] or [0.0])
        return {"min": float(d.min()), "median": float(np.median(d)), "max": float(d.max()),
                "total": float(d.sum())}

    def check(self) -> None:
        """Raise DataError unless there are >= 2 labels, each with a usable clip."""
        if len(self.data.labels) < 2:
            found = f"only {self.data.labels[0]!r}" if self.data.labels else "none"
            raise DataError(
                f"{self.data.source}: need at least 2 labels (one subfolder per label, or a "
                f"CSV manifest), found {found}"
            )
        empty = [name for name, n in self.clips_per_label().items() if n == 0]
        if empty:
            raise DataError(
                f"{self.data.source}: no usable clip for label(s) {', '.join(empty)}; "
                "add clips or remove the label"
            )

    def to_dict(self) -> dict:
        return {
            "source": self.data.source,
            "labels": self.data.labels,
            "multi_label": self.data.multi_label,
            "clips_per_label": self.clips_per_label(),
            "usable": len(self.usable),
            "durations_s": self.duration_summary(),
            "sample_rates": {str(k): v for k, v in sorted(self.sample_rates.items())},
            "problems": [{"path": p, "reason": r} for p, r in self.problems],
        }

    def summary(self) -> str:
        """A few human-readable lines."""
        d = self.duration_summary()
        lines = [f"{len(self.usable)} usable clips, {len(self.data.labels)} labels, "
                 f"duration {d['min']:.2f}-{d['max']:.2f} s (median {d['median']:.2f} s)"]
        lines += [f"  {name}: {n}" for name, n in self.clips_per_label().items()]
        lines += [f"  skipped {p}: {r}" for p, r in self.problems]
        return "\n".join(lines)


def clip_problem(
    samples: np.ndarray, min_seconds: float, silence_dbfs: float, rate: int = SAMPLE_RATE
) -> str | None:
    """Why decoded audio is unusable for training, or None."""
    if len(samples) < min_seconds * rate:
        return f"too short ({len(samples) / rate:.3f} s < {min_seconds} s)"
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if peak <= 10 ** (silence_dbfs / 20):
        return f"silent (peak below {silence_dbfs:.0f} dBFS)"
    return None


def iter_preflight(
    data: LabeledSet, min_seconds: float = 0.1, silence_dbfs: float = -60.0
) -> Generator[tuple[int, int], None, PreflightReport]:
    """Decode every clip once; yields (done, total) and returns the report.

    A generator so a GUI worker can show progress and cancel between files.
    """
    report = PreflightReport(data)
    total = len(data.clips)
    for i, clip in enumerate(data.clips):
        try:
            info = probe(clip.path)
            samples = load_audio(clip.path)
        except AudioError as e:
            report.problems.append((clip.path, e.reason))
        else:
            reason = clip_problem(samples, min_seconds, silence_dbfs)
            if reason:
                report.problems.append((clip.path, reason))
            else:
                report.usable.append(clip)
                report.durations[clip.path] = info.duration_s
                report.sample_rates[info.sample_rate] += 1
        yield i + 1, total
    return report


def preflight(
    data: LabeledSet, progress: Callable[[int, int], None] | None = None, **kwargs: float
) -> PreflightReport:
    """Run `iter_preflight` to the end."""
    gen = iter_preflight(data, **kwargs)
    while True:
        try:
            done, total = next(gen)
        except StopIteration as stop:
            return stop.value
        if progress:
            progress(done, total)


# ---------------------------------------------------------------- splits


def _strata(data: LabeledSet, clips: Sequence[LabeledClip]) -> list[str]:
    """Stratify on the first label (multi-label sets: the rarest label of the clip)."""
    counts = Counter(name for c in clips for name in c.labels)
    return [min(c.labels, key=lambda n: (counts[n], n)) for c in clips]


def train_val_split(
    data: LabeledSet, clips: Sequence[LabeledClip], fraction: float, seed: int
) -> tuple[list[LabeledClip], list[LabeledClip]]:
    """Stratified split; every label keeps at least one training clip."""
    from sklearn.model_selection import train_test_split

    if not 0 < fraction < 1:
        raise DataError(f"validation fraction must be between 0 and 1, got {fraction}")
    strata = _strata(data, clips)
    counts = Counter(strata)
    n_val = max(len(counts), round(fraction * len(clips)))
    if min(counts.values()) < 2 or n_val > len(clips) - len(counts):
        raise DataError(
            "too few clips to split off a validation set with every label in it; add clips, "
            "lower --val-fraction, or give a --val-dir"
        )
    train, val = train_test_split(list(clips), test_size=n_val, random_state=seed,
                                  stratify=strata)
    return train, val


def kfold_splits(
    data: LabeledSet, clips: Sequence[LabeledClip], folds: int, seed: int
) -> list[tuple[list[LabeledClip], list[LabeledClip]]]:
    """Stratified k-fold (the ESC-50 recipe uses 5): a list of (train, val) pairs."""
    from sklearn.model_selection import StratifiedKFold

    strata = _strata(data, clips)
    if min(Counter(strata).values()) < folds:
        raise DataError(f"each label needs at least {folds} clips for {folds}-fold training")
    kf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    clips = list(clips)
    return [([clips[i] for i in tr], [clips[i] for i in va])
            for tr, va in kf.split(np.zeros(len(clips)), strata)]


def restrict_labels(data: LabeledSet, other: LabeledSet) -> list[LabeledClip]:
    """Clips of `other` (e.g. a held-out test folder) whose labels are all in `data`."""
    unknown = sorted({n for c in other.clips for n in c.labels} - set(data.labels))
    if unknown:
        raise DataError(f"{other.source}: labels not in the training data: {', '.join(unknown)}")
    return list(other.clips)
