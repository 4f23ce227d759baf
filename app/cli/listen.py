"""`ast-studio listen`: live labels from a microphone in a terminal, as they change.

Text mode prints a line when the shown labels change (and one per threshold event); `--format
jsonl` prints one JSON object per analysis (`changed` says whether the labels changed) and a
final `{"summary": ...}` line (with the precision the model ran at), for scripts and soak runs.
No Qt is imported.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.cli.classify import PRECISION_HELP
from ast_core.accel import PRECISIONS
from ast_core.audio import SAMPLE_RATE


def add_parser(sub: Any) -> None:
    """Add `listen` to the `ast-studio` subparsers."""
    p = sub.add_parser("listen", help="label what the microphone hears, live",
                       description="Label what the microphone hears, live.")
    p.add_argument("--device", help="input device: index or name (see --list-devices)")
    p.add_argument("--list-devices", action="store_true", help="list input devices and exit")
    p.add_argument("--model", help="model folder, installed model name or hub id")
    p.add_argument("--window", type=float, default=1.0, help="analysis window, s (default 1)")
    p.add_argument("--hop", type=float, default=0.5, help="time between analyses, s (0.5)")
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--threshold", type=float, default=0.3, help="show/log labels >= this")
    p.add_argument("--labels", help="only show these labels (comma-separated)")
    p.add_argument("--events", help="log threshold crossings of these labels (comma-separated; "
                   "default: every shown label)")
    p.add_argument("--save-events", metavar="DIR", help="save the audio around each event here")
    p.add_argument("--format", choices=["text", "jsonl"], default="text")
    p.add_argument("--seconds", type=float, help="stop after this long (default: Ctrl+C)")
    p.add_argument("--compute-device", help="cpu, cuda or mps (default: best available)")
    p.add_argument("--threads", type=int, help="torch threads (default: all cores but one)")
    p.add_argument("--precision", choices=PRECISIONS, default="auto", help=PRECISION_HELP)
    p.add_argument("--fit-window", action="store_true",
                   help="cut the model's input to the window (much faster for 10-s models)")
    p.set_defaults(handler=run)


def _labels(text: str | None) -> frozenset[str] | None:
    return frozenset(s.strip() for s in text.split(",") if s.strip()) if text else None


def _device(text: str | None) -> int | str | None:
    return int(text) if text is not None and text.isdigit() else text


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    import numpy as np

    return round(float(np.percentile(values, q)), 1)


def _list_devices() -> int:
    from ast_core.errors import AstStudioError
    from ast_core.live.microphone import input_devices

    try:
        devices = input_devices()
    except AstStudioError as e:
        print(f"ast-studio listen: {e}", file=sys.stderr)
        return 2
    for d in devices:
        print(f"{d.index:3d}  {d.name}  ({d.default_rate:.0f} Hz)")
    return 0


def run(args: argparse.Namespace) -> int:
    """Listen until --seconds pass, Ctrl+C or SIGTERM; print labels, then a summary."""
    if args.list_devices:
        return _list_devices()
    from ast_core.errors import AstStudioError
    from ast_core.live.threads import live_threads, torch_threads

    tally = _Tally()
    stop = {"now": False}
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    try:
        with torch_threads(args.threads or live_threads()):
            _listen(args, tally, lambda: stop["now"])
    except KeyboardInterrupt:
        pass
    except AstStudioError as e:
        print(f"ast-studio listen: {e}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        if tally.mic is not None:
            tally.mic.stop()
    summary = tally.summary()
    if args.format == "jsonl":
        print(json.dumps({"summary": summary}), flush=True)
    else:
        print("summary: " + ", ".join(f"{k} {v}" for k, v in summary.items()), file=sys.stderr)
    return 0


def _listen(args: argparse.Namespace, tally: _Tally, stopped: Callable[[], bool]) -> None:
    """Load the model, open the microphone and print each analysis until `stopped()` or
    --seconds; `tally` keeps what the summary needs (and the mic, for the caller to stop)."""
    from ast_core.errors import AstStudioError
    from ast_core.live.analyzer import LiveAnalyzer, LiveConfig
    from ast_core.live.microphone import MicStream
    from ast_core.run.loading import load_classifier

    config = LiveConfig(window_s=args.window, hop_s=args.hop, top_k=args.top_k,
                        threshold=args.threshold, label_filter=_labels(args.labels),
                        event_labels=_labels(args.events),
                        snippet_dir=Path(args.save_events) if args.save_events else None)
    classifier = load_classifier(args.model, args.compute_device, args.precision,
                                 window_s=args.window if args.fit_window else None)
    tally.precision = classifier.precision
    unknown = (config.label_filter or frozenset()) - set(classifier.labels)
    if unknown:
        raise AstStudioError(f"The model has no label(s) {sorted(unknown)}.")
    analyzer = LiveAnalyzer(classifier, None, config)  # type: ignore[arg-type]
    analyzer.warm_up()
    tally.mic = MicStream(_device(args.device))
    tally.mic.start()
    analyzer.source = tally.mic
    t_end = time.monotonic() + args.seconds if args.seconds else float("inf")
    print(_hello(args, tally.mic.rate, classifier.window_seconds), file=sys.stderr, flush=True)
    for r in analyzer.results(lambda: stopped() or time.monotonic() >= t_end):
        tally.add(r)
        _print(r, args.format)


@dataclass
class _Tally:
    """What `listen` reports at the end: the precision the model ran at, counts, costs."""

    precision: str | None = None
    mic: Any = None
    count: int = 0
    dropped: int = 0
    latencies: list[float] = field(default_factory=list)
    analysis_ms: list[float] = field(default_factory=list)

    def add(self, r: Any) -> None:
        self.count, self.dropped = self.count + 1, r.dropped
        if r.index > 0:  # the first analysis includes start-up, not steady state
            self.latencies.append(r.latency_ms)
            self.analysis_ms.append(r.analysis_ms)

    def summary(self) -> dict:
        mic = self.mic
        return {"precision": self.precision, "analyses": self.count, "dropped": self.dropped,
                "overruns": mic.overruns if mic else 0,
                "status_flags": mic.status_flags if mic else 0,
                "analysis_ms_p50": _percentile(self.analysis_ms, 50),
                "latency_ms_p50": _percentile(self.latencies, 50),
                "latency_ms_p95": _percentile(self.latencies, 95),
                "rss_mb": _rss_mb()}


def _hello(args: argparse.Namespace, rate: int, model_window: float) -> str:
    note = "" if rate == SAMPLE_RATE else f" (device rate {rate} Hz, resampled to 16 kHz)"
    return (f"listening{note}: window {args.window:g} s, hop {args.hop:g} s, model window "
            f"{model_window:.2f} s. Ctrl+C stops.")


def _print(r, fmt: str) -> None:
    if fmt == "jsonl":
        print(json.dumps(r.to_dict()), flush=True)
        return
    if r.changed:
        shown = ", ".join(f"{n} {s:.2f}" for n, s in r.top) or "(nothing above threshold)"
        print(f"{r.time_s:8.2f} s  {shown}   [{r.latency_ms:.0f} ms, dropped {r.dropped}]",
              flush=True)
    for e in r.events:
        where = f"  -> {e.snippet}" if e.snippet else ""
        print(f"{e.time_s:8.2f} s  EVENT {e.label} {e.score:.2f}{where}", flush=True)


def _rss_mb() -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None
