"""`ast-studio bench --long`: seconds and peak memory to analyse an hour of audio.

The hour is generated on disk block by block (`common.write_long_recording`: white noise with
short 1-kHz beeps, a mono 16-bit WAV in a temporary folder), then scanned by the real streaming
path (`Classifier.score_file`: decode in blocks, windows, batches) and turned into events, in a
child process, so the reported peak resident memory is the scan's own and not this process's.

With no model given, a random-init base384 model with the AudioSet features is saved to a
temporary folder: its scores mean nothing, the numbers are for timing only (the report says so).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import child_env, random_model_folder, write_long_recording


def scan_in_child(
    model: str, audio: str, window_s: float | None, hop_s: float | None, precision: str
) -> dict:
    """The child process's part: load, scan the file, detect events; time and peak RSS."""
    import torch

    from ast_core.run.events import detect_events
    from ast_core.run.loading import load_classifier

    t0 = time.perf_counter()
    clf = load_classifier(model, precision=precision)
    load_s = time.perf_counter() - t0
    load_peak = peak_rss_mb()
    window_s = window_s or clf.window_seconds
    hop_s = hop_s or window_s / 2
    t0 = time.perf_counter()
    ws = clf.score_file(audio, window_s, hop_s)
    events = detect_events(ws.starts, ws.ends, ws.scores, clf.labels, 0.5)
    scan_s = time.perf_counter() - t0
    return {
        "load_seconds": load_s,
        "seconds": scan_s,
        "windows": len(ws.starts),
        "events": len(events),
        "window_s": window_s,
        "hop_s": hop_s,
        "threads": torch.get_num_threads(),
        "device": str(clf.device),
        "precision": clf.precision,
        "peak_rss_mb": peak_rss_mb(),
        "load_peak_rss_mb": load_peak,
        "end_rss_mb": _status_mb("VmRSS"),
    }


def _status_mb(field: str) -> float | None:
    """A memory field of /proc/self/status in MB (None where there is no /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            return next(int(line.split()[1]) for line in f if line.startswith(field + ":")) / 1024
    except (OSError, StopIteration):
        return None


def peak_rss_mb() -> float:
    """This process's peak resident memory. Read from VmHWM, which starts afresh at exec:
    `ru_maxrss` carries over the parent's size from before the exec that started this child."""
    peak = _status_mb("VmHWM")
    if peak is None:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return peak


def run_long_bench(
    model_source: str | None = None,
    hours: float = 1.0,
    window_s: float | None = None,
    hop_s: float | None = None,
    precision: str = "auto",
) -> dict:
    """Generate `hours` of audio, scan it in a child process; seconds, real-time factor, RSS.

    `window_s`/`hop_s` default to the model's window with 50 % overlap; `precision` as for
    `Classifier`.
    """
    seconds = hours * 3600
    with tempfile.TemporaryDirectory(prefix="ast-bench-long-") as tmp:
        audio = Path(tmp) / "long.wav"
        t0 = time.perf_counter()
        beeps = [(t, 0.5) for t in np.arange(30.0, seconds - 1.0, 300.0)]
        write_long_recording(audio, seconds, beeps)
        generate_s = time.perf_counter() - t0
        note = "given model"
        if model_source is None:
            model_source = str(random_model_folder("base384", Path(tmp) / "random-base384"))
            note = "random-init base384 (AudioSet features): timing only, scores are meaningless"
        args = json.dumps([model_source, str(audio), window_s, hop_s, precision])
        code = (
            "import json, sys; from bench.long_file import scan_in_child; "
            "print(json.dumps(scan_in_child(*json.loads(sys.argv[1]))))"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code, args],
            capture_output=True, text=True, check=False, env=child_env(),
        )
        if proc.returncode != 0:
            raise RuntimeError(f"long-file scan failed:\n{proc.stderr[-2000:]}")
        scan = json.loads(proc.stdout.strip().splitlines()[-1])
    report = {
        "model": model_source if note == "given model" else "random base384",
        "note": note,
        "audio_hours": hours,
        "generate_seconds": generate_s,
        **scan,
    }
    report["real_time_factor"] = scan["seconds"] / seconds
    report["windows_per_s"] = scan["windows"] / scan["seconds"] if scan["seconds"] else None
    report["seconds_per_hour"] = scan["seconds"] / hours
    return report
