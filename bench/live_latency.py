"""`ast-studio bench --live`: what live tagging costs on this machine for a model, window and hop.

Audio is fed in real time from a thread that behaves like the PortAudio callback (20-ms blocks,
each stamped with its arrival time), into the same ring buffer and `LiveAnalyzer` the app and
`ast-studio listen` use. Reported: analysis time per window, real-time factor (analysis time /
hop; above 1 the hop cannot be kept and windows are dropped), sound-to-label latency p50/p95
(capture of the newest analysed sample -> labels ready), dropped windows.

With no model, a randomly initialised base384 AST shaped like the AudioSet models (10.24-s
input) is built in a temporary folder: the labels are meaningless and the report says so
("timing only"). `fit_window` cuts the model's input to the window, as `listen --fit-window`.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from ast_core.audio import SAMPLE_RATE
from ast_core.live.analyzer import LiveAnalyzer, LiveConfig
from ast_core.live.feeder import RealTimeFeeder
from ast_core.live.threads import live_threads, torch_threads
from ast_core.run.loading import load_classifier
from bench.common import random_model_folder


def _stats(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p95": None, "max": None}
    a = np.asarray(values)
    return {"p50": round(float(np.percentile(a, 50)), 1),
            "p95": round(float(np.percentile(a, 95)), 1), "max": round(float(a.max()), 1)}


def run_live_bench(model_source: str | None = None, window_s: float = 1.0, hop_s: float = 0.5,
                   seconds: float = 20.0, size: str = "base384",
                   device: str | None = None, threads: int | None = None,
                   fit_window: bool = False) -> dict:
    """Feed `seconds` of noise in real time and analyse it live; returns the measurements.

    `threads`: torch threads during the run (default `live_threads()`, as listen and the app
    use); the previous setting is restored afterwards. `fit_window`: cut the model's input
    to the window (`load_classifier(..., window_s=...)`), as `listen --fit-window` does.
    """
    with torch_threads(threads or live_threads()):
        return _run(model_source, window_s, hop_s, seconds, size, device, fit_window)


def _run(model_source: str | None, window_s: float, hop_s: float, seconds: float, size: str,
         device: str | None, fit_window: bool) -> dict:
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        timing_only = model_source is None
        source = random_model_folder(size, Path(tmp) / "model") if timing_only else model_source
        classifier = load_classifier(str(source), device, window_s=window_s if fit_window else None)
        analyzer = LiveAnalyzer(classifier, None, LiveConfig(window_s=window_s, hop_s=hop_s))
        analyzer.warm_up()
        rng = np.random.default_rng(0)
        feeder = RealTimeFeeder(0.05 * rng.standard_normal(10 * SAMPLE_RATE).astype(np.float32))
        analyzer.source = feeder
        feeder.start()
        results = []
        t_end = time.monotonic() + seconds
        try:
            for r in analyzer.results(lambda: time.monotonic() >= t_end):
                results.append(r)
        finally:
            feeder.stop()
    steady = results[1:] or results  # the first analysis waits for the first hop of audio
    analysis = [r.analysis_ms for r in steady]
    return {
        "model": f"random {size} weights (timing only)" if timing_only else str(model_source),
        "timing_only": timing_only,
        "model_window_s": round(classifier.window_seconds, 3),
        "fit_window": fit_window,
        "window_s": window_s,
        "hop_s": hop_s,
        "seconds": seconds,
        "torch_threads": torch.get_num_threads(),
        "analyses": len(results),
        "analysis_ms": _stats(analysis),
        "rtf_p50": round(float(np.median(analysis)) / 1000 / hop_s, 3) if analysis else None,
        "latency_ms": _stats([r.latency_ms for r in steady]),
        "dropped": results[-1].dropped if results else 0,
        "sustainable": bool(analysis) and float(np.percentile(analysis, 95)) < hop_s * 1000,
    }


def format_report(report: dict) -> str:
    """A few readable lines for the terminal."""
    a, lat = report["analysis_ms"], report["latency_ms"]
    verdict = "keeps up" if report["sustainable"] else "cannot keep up: use a longer hop"
    return "\n".join([
        f"model: {report['model']} (input {report['model_window_s']} s)",
        f"window {report['window_s']} s, hop {report['hop_s']} s, {report['seconds']} s fed in "
        f"real time, {report['torch_threads']} torch threads",
        f"analysis per window: p50 {a['p50']} ms, p95 {a['p95']} ms  (RTF {report['rtf_p50']})",
        f"sound-to-label latency: p50 {lat['p50']} ms, p95 {lat['p95']} ms",
        f"analyses {report['analyses']}, dropped windows {report['dropped']}: {verdict}",
    ])

