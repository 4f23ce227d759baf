"""`ast-studio bench`: measure speed against transformers' AST and print a JSON report."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from ast_core.accel import PRECISIONS


def add_parser(sub: Any) -> None:
    """Add `bench` to the `ast-studio` subparsers."""
    b = sub.add_parser("bench", help="measure speed against transformers' AST (JSON)")
    b.add_argument("--model", help="model to time (default: random base384 weights)")
    b.add_argument("--repeats", type=int, default=5, help="timed runs after a warm-up")
    b.add_argument("--size", default="base384", help="size of the random model")
    b.add_argument("--stride", type=int, default=10, help="patch stride of the random model")
    b.add_argument("--folder-clips", type=int, default=6, help="10-s clips in the folder test")
    b.add_argument("--startup", action="store_true", help="time app start-up")
    b.add_argument("--train", action="store_true", help="training samples/s (tiny, base)")
    b.add_argument("--long", action="store_true", help="one hour of audio: time, peak RSS")
    b.add_argument("--long-precision", choices=PRECISIONS, default="auto",
                   help="precision of the --long scan")
    b.add_argument("--live", action="store_true", help="live latency p50/p95")
    b.add_argument("--gpu", action="store_true", help="CUDA section only: ours vs "
                   "transformers on the GPU, folder, hour, training")
    b.add_argument("--all", action="store_true", help="every section (the GPU's where CUDA is)")
    b.add_argument("--out", help="also write the JSON here")
    b.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the chosen sections, print the report (and write it to --out)."""
    import torch

    from bench.common import machine
    from bench.cpu_inference import run_cpu_bench

    every = args.all
    if args.gpu and not every:
        report = {"machine": machine()}
    else:
        report = run_cpu_bench(args.model, args.size, args.repeats, args.folder_clips, args.stride)
    if args.gpu or (every and torch.cuda.is_available()):
        report["gpu"] = _gpu_section(args)
    with tempfile.TemporaryDirectory() as tmp:
        report.update(_cpu_sections(args, Path(tmp)))
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        from ast_core.store.atomic import atomic_write_text

        atomic_write_text(args.out, text + "\n")
    return 0


def _gpu_section(args: argparse.Namespace) -> dict:
    import torch

    from bench.gpu_inference import run_gpu_bench
    from bench.training_speed import training_throughput

    gpu = run_gpu_bench(args.model, args.size, stride=args.stride)
    if torch.cuda.is_available():
        gpu["training"] = [
            training_throughput(size, batch_size=16, steps=10, amp=amp, device="cuda")
            for size in ("tiny", "base384")
            for amp in ("fp32", "bf16")
        ]
    return gpu


def _cpu_sections(args: argparse.Namespace, tmp: Path) -> dict:
    """The --startup, --train, --long and --live sections (each with --all)."""
    from bench.common import random_model_folder

    every, sections = args.all, {}
    folder = args.model
    if (every or args.startup or args.live) and not folder:
        folder = random_model_folder(args.size, tmp / "model", args.stride)
    if every or args.startup:
        from ast_core.store.model_store import resolve
        from bench.app_startup import startup_times

        sections["startup"] = startup_times(str(resolve(folder)))
    if every or args.train:
        from bench.training_speed import training_throughput

        sections["training"] = [
            training_throughput(size, amp=amp)
            for size in ("tiny", "base384")
            for amp in ("fp32", "bf16")
        ]
    if every or args.long:
        from bench.long_file import run_long_bench

        sections["long"] = run_long_bench(args.model, precision=args.long_precision)
    if every or args.live:
        from bench.live_latency import run_live_bench

        # the Live window's default: the model's input cut to the analysis window
        sections["live"] = run_live_bench(str(folder), window_s=2.0, hop_s=0.5, fit_window=True)
    return sections
