"""Progress reporting: human-readable (tqdm) or one JSON object per line (for the GUI).

jsonl events on stdout, one per line, each with "event" and "time" (Unix seconds):
- start: epochs, labels, train/val/test clip counts, steps_per_epoch, config, out, preflight
- batch: epoch, step, steps (throttled to about one a second; for progress bars)
- epoch: epoch, epochs, train_loss, lr, val (metrics: accuracy, mAP, ap, confusion, loss),
  metric (name of the watched value), best, seconds, samples_per_s, eta_s
- checkpoint: epoch, path
- done: model (the exported model folder), metrics
- error: message
"""

from __future__ import annotations

import json
import math
import sys
import time
from abc import ABC, abstractmethod
from typing import Any, TextIO


def _clean(obj: Any) -> Any:
    """JSON has no NaN/Infinity: replace them by null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


class Reporter(ABC):
    """Base reporter; `enabled=False` (DDP ranks other than 0) makes every call a no-op."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.context: dict[str, Any] = {}  # added to every event (e.g. fold numbers)

    def emit(self, event: str, **fields: Any) -> None:
        if self.enabled:
            self._emit(event, {**self.context, **fields})

    @abstractmethod
    def _emit(self, event: str, fields: dict[str, Any]) -> None:
        """Write one event (subclasses: tqdm lines or JSON lines)."""

    def close(self) -> None:  # noqa: B027 (optional hook: most reporters hold nothing open)
        """Release what the reporter holds (a progress bar)."""


class JsonlReporter(Reporter):
    """One JSON object per line on `stream` (stdout), flushed at once."""

    def __init__(self, enabled: bool = True, stream: TextIO | None = None):
        super().__init__(enabled)
        self.stream = stream or sys.stdout
        self._last_batch = 0.0

    def _emit(self, event: str, fields: dict[str, Any]) -> None:
        now = time.time()
        if event in ("batch", "features"):  # progress ticks: at most about one a second
            done = fields.get("step", fields.get("done"))
            total = fields.get("steps", fields.get("total"))
            last = done == total
            if now - self._last_batch < 1.0 and not last:
                return
            self._last_batch = now
        line = json.dumps(_clean({"event": event, "time": round(now, 3), **fields}),
                          ensure_ascii=False)
        self.stream.write(line + "\n")
        self.stream.flush()


class TqdmReporter(Reporter):
    """A tqdm bar per epoch on stderr and one summary line per event."""

    def __init__(self, enabled: bool = True):
        super().__init__(enabled)
        self._bar = None

    def _emit(self, event: str, fields: dict[str, Any]) -> None:
        from tqdm import tqdm

        if event in ("batch", "features"):
            total = fields.get("steps", fields.get("total"))
            desc = (f"epoch {fields['epoch']}" if event == "batch"
                    else f"features ({fields['split']})")
            if self._bar is None or self._bar.desc != desc:
                self.close()
                self._bar = tqdm(total=total, desc=desc, leave=False, file=sys.stderr)
            self._bar.update(fields.get("step", fields.get("done")) - self._bar.n)
            return
        self.close()
        if event in ("preflight", "error"):  # the CLI prints both itself
            return
        if event == "start":
            msg = (f"training {fields['train_clips']} clips, validating {fields['val_clips']}, "
                   f"{len(fields['labels'])} labels, {fields['epochs']} epochs -> {fields['out']}")
        elif event == "epoch":
            val = fields["val"]
            msg = (f"epoch {fields['epoch']}/{fields['epochs']}  loss {fields['train_loss']:.4f}"
                   f"  val {fields['metric']} {val.get(fields['metric'])}"
                   f"  ({fields['seconds']:.1f} s, {fields['samples_per_s']:.1f} clips/s,"
                   f" eta {fields['eta_s']:.0f} s)")
        elif event == "checkpoint":
            msg = f"checkpoint {fields['path']}"
        elif event == "done":
            msg = f"model written to {fields['model']}"
        else:
            msg = f"{event}: {fields}"
        tqdm.write(msg, file=sys.stderr)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def make_reporter(kind: str, enabled: bool = True) -> Reporter:
    if kind == "jsonl":
        return JsonlReporter(enabled)
    if kind == "tqdm":
        return TqdmReporter(enabled)
    raise ValueError(f"--progress must be tqdm or jsonl, got {kind!r}")
