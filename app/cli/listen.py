"""`ast-studio listen`: live labels from a microphone in a terminal, as they change.

Text mode prints a line when the shown labels change (and one per threshold event); `--format
jsonl` prints one JSON object per analysis (`changed` says whether the labels changed) and a
final `{"summary": ...}` line, for scripts and soak runs. No Qt is imported.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ast-studio listen",
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
    p.add_argument("--fit-window", action="store_true",
                   help="cut the model's input to the window (much faster for 10-s models)")
    return p


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
    import sounddevice as sd

    for i, d in enumerate(sd.query_devices()):
        if d["max_input_channels"] > 0:
            print(f"{i:3d}  {d['name']}  ({d['default_samplerate']:.0f} Hz)")
    return 0


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.list_devices:
        return _list_devices()
    from app.cli import _load_classifier
    from ast_core.errors import AstStudioError
    from ast_core.live.streaming import (
        LiveAnalyzer,
        LiveConfig,
        MicStream,
        live_threads,
        load_for_window,
    )

    config = LiveConfig(window_s=args.window, hop_s=args.hop, top_k=args.top_k,
                        threshold=args.threshold, label_filter=_labels(args.labels),
                        event_labels=_labels(args.events),
                        snippet_dir=Path(args.save_events) if args.save_events else None)
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    mic = None
    latencies: list[float] = []
    analysis_ms: list[float] = []
    count, last = 0, None
    try:
        import torch

        torch.set_num_threads(args.threads or live_threads())
        classifier = _load_classifier(args.model, args.compute_device)
        if args.fit_window:
            classifier = load_for_window(classifier.name, args.window, args.compute_device)
        unknown = (config.label_filter or frozenset()) - set(classifier.labels)
        if unknown:
            raise AstStudioError(f"The model has no label(s) {sorted(unknown)}.")
        analyzer = LiveAnalyzer(classifier, None, config)  # type: ignore[arg-type]
        analyzer.warm_up()
        mic = MicStream(_device(args.device))
        mic.start()
        analyzer.source = mic
        t_end = time.monotonic() + args.seconds if args.seconds else float("inf")
        print(_hello(args, mic.rate, classifier.window_seconds), file=sys.stderr, flush=True)
        for r in analyzer.results(lambda: stop["now"] or time.monotonic() >= t_end):
            count, last = count + 1, r
            if r.index > 0:  # the first analysis includes start-up, not steady state
                latencies.append(r.latency_ms)
                analysis_ms.append(r.analysis_ms)
            _print(r, args.format)
    except KeyboardInterrupt:
        pass
    except AstStudioError as e:
        print(f"ast-studio listen: {e}", file=sys.stderr)
        return 2
    finally:
        if mic is not None:
            mic.stop()
    summary = {"analyses": count, "dropped": last.dropped if last else 0,
               "overruns": mic.overruns if mic else 0,
               "status_flags": mic.status_flags if mic else 0,
               "analysis_ms_p50": _percentile(analysis_ms, 50),
               "latency_ms_p50": _percentile(latencies, 50),
               "latency_ms_p95": _percentile(latencies, 95),
               "rss_mb": _rss_mb()}
    if args.format == "jsonl":
        print(json.dumps({"summary": summary}), flush=True)
    else:
        print("summary: " + ", ".join(f"{k} {v}" for k, v in summary.items()), file=sys.stderr)
    return 0


def _hello(args: argparse.Namespace, rate: int, model_window: float) -> str:
    note = "" if rate == 16_000 else f" (device rate {rate} Hz, resampled to 16 kHz)"
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
