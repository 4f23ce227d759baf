"""Headless command line: classify, models, download, import, bench; routes train and gui.

Heavy modules (torch, Qt) are imported inside the command that needs them.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

COMMANDS = ("classify", "models", "download", "import", "bench", "train", "gui", "listen")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ast-studio",
        description="Label sounds with the Audio Spectrogram Transformer. "
        "With no command (or with audio files) the desktop app opens.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    c = sub.add_parser("classify", help="label audio files and folders")
    c.add_argument("files", nargs="+", metavar="FILE_OR_DIR")
    c.add_argument("--model", help="model folder, installed model name or hub id")
    c.add_argument("--top-k", type=int, default=5)
    c.add_argument("--recursive", "-r", action="store_true", help="include subfolders")
    c.add_argument("--window", type=float, help="window length in seconds (long audio)")
    c.add_argument("--hop", type=float, help="hop between windows in seconds")
    c.add_argument("--events", action="store_true", help="detect events (threshold per label)")
    c.add_argument("--threshold", type=float, default=0.5, help="event score threshold")
    c.add_argument("--min-duration", type=float, default=0.0, help="shortest event, seconds")
    c.add_argument("--merge-gap", type=float, default=0.0, help="merge events this close, s")
    c.add_argument(
        "--format",
        choices=["table", "json", "csv", "raven", "audacity"],
        default="table",
        help="raven/audacity: one event table per file into the --out folder",
    )
    c.add_argument("--out", help="write results here (a folder for raven/audacity)")
    c.add_argument("--resume", action="store_true", help="skip files finished by a killed run")
    c.add_argument("--device", help="cpu, cuda or mps (default: best available)")
    c.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16", "int8"],
        default="auto",
        help="auto: bf16 where the hardware has it natively, else fp32; int8: dynamic int8 "
        "linear layers on the CPU (faster, scores further from fp32)",
    )

    sub.add_parser("models", help="list known and installed models")

    d = sub.add_parser("download", help="download a hub model into the Hugging Face cache")
    d.add_argument("repo_id", nargs="?", default=None)

    i = sub.add_parser("import", help="install a .pth, .safetensors or model folder")
    i.add_argument("path")
    i.add_argument("--name", help="name of the installed model (default: file name)")
    i.add_argument("--labels", help="audioset, esc50, speechcommands, or a CSV with display_name")
    i.add_argument("--fstride", type=int, default=10)
    i.add_argument("--tstride", type=int, default=None)
    i.add_argument("--label-mode", choices=["multi", "single"], default=None)
    i.add_argument("--default", action="store_true", help="make it the default model")

    b = sub.add_parser("bench", help="measure speed against transformers' AST (JSON)")
    b.add_argument("--model", help="model to time (default: random base384 weights)")
    b.add_argument("--repeats", type=int, default=5, help="timed runs after a warm-up")
    b.add_argument("--size", default="base384", help="size of the random model")
    b.add_argument("--stride", type=int, default=10, help="patch stride of the random model")
    b.add_argument("--folder-clips", type=int, default=6, help="10-s clips in the folder test")
    b.add_argument("--startup", action="store_true", help="time app start-up")
    b.add_argument("--train", action="store_true", help="training samples/s (tiny, base)")
    b.add_argument("--long", action="store_true", help="one hour of audio: time, peak RSS")
    b.add_argument(
        "--long-precision",
        choices=["auto", "fp32", "bf16", "int8"],
        default="auto",
        help="precision of the --long scan",
    )
    b.add_argument("--live", action="store_true", help="live latency p50/p95")
    b.add_argument(
        "--gpu",
        action="store_true",
        help="CUDA section only: ours vs transformers on the GPU, folder, hour, training",
    )
    b.add_argument("--all", action="store_true", help="every section (the GPU's where CUDA is)")
    b.add_argument("--out", help="also write the JSON here")

    g = sub.add_parser("gui", help="open the desktop app")
    g.add_argument("files", nargs="*")
    return p


def run(argv: list[str]) -> int:
    if argv and argv[0] == "train":
        from trainer.cli import main as train_main

        return train_main(argv[1:])
    if argv and argv[0] == "listen":
        from app.cli.listen import main as listen_main

        return listen_main(argv[1:])
    if not argv or argv[0] not in COMMANDS and not argv[0].startswith("-"):
        from app.gui.launch import run_gui

        return run_gui(argv)
    args = _parser().parse_args(argv)
    from ast_core.errors import AstStudioError

    try:
        return {
            "classify": cmd_classify,
            "models": cmd_models,
            "download": cmd_download,
            "import": cmd_import,
            "bench": cmd_bench,
            "gui": cmd_gui,
        }[args.command](args)
    except AstStudioError as e:
        print(f"ast-studio: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def cmd_gui(args: argparse.Namespace) -> int:
    from app.gui.launch import run_gui

    return run_gui(args.files)


def _load_classifier(model: str | None, device: str | None, precision: str = "auto"):
    from ast_core.accel.heavy_imports import heavy_imports
    from ast_core.errors import ModelError
    from ast_core.store import model_store

    with heavy_imports():
        from ast_core.run.classifier import Classifier

    source = model or model_store.default_model()
    if source is None:
        raise ModelError(model_store.no_model_message())
    return Classifier.load(source, device, precision)


def cmd_classify(args: argparse.Namespace) -> int:
    from ast_core.errors import AstStudioError
    from ast_core.run.batch import EventOptions, Journal, analyse_files, find_audio, run_batch

    per_file = args.format in ("raven", "audacity")
    if (per_file or args.resume) and not args.out:
        raise AstStudioError(f"--format {args.format} and --resume need --out")
    files = find_audio(args.files, args.recursive)
    if not files:
        raise AstStudioError("no audio files found in " + ", ".join(args.files))
    clf = _load_classifier(args.model, args.device, args.precision)
    events = (
        EventOptions(args.threshold, args.min_duration, args.merge_gap)
        if (args.events or per_file)
        else None
    )
    journal = None
    if args.out:
        out = Path(args.out)
        journal = Journal(out / ".journal.jsonl" if per_file else f"{out}.journal.jsonl")

    def analyse(paths: list[str]) -> list[dict]:
        return analyse_files(clf, paths, args.top_k, args.window, args.hop, events)

    def report(i: int, r: dict) -> None:
        if r["error"]:
            print(f"ast-studio: {r['error']}", file=sys.stderr)
        elif args.format == "table" and not args.out:
            _print_table_row(r)

    results = run_batch(analyse, files, clf.name, journal, args.resume, report,
                        group=clf.clips_per_pass)
    _write_results(results, args)
    return 2 if any(r["error"] for r in results) else 0


def _write_results(results: list[dict], args: argparse.Namespace) -> None:
    from ast_core.run.events import Event
    from ast_core.run.exports import SUFFIXES, results_csv, write_events
    from ast_core.store.atomic import atomic_write_text

    if args.format in ("raven", "audacity"):
        for r in results:
            if not r["error"]:
                name = Path(r["file"]).stem + SUFFIXES[args.format]
                write_events(Path(args.out) / name, [Event(**e) for e in r["events"]], args.format)
        return
    if args.format == "json":
        text = json.dumps(results, indent=2, ensure_ascii=False) + "\n"
    elif args.format == "csv":
        text = results_csv(results, args.events)
    else:
        text = "".join(_table_row(r) for r in results)
    if args.out:
        atomic_write_text(args.out, text)
    elif args.format != "table":
        sys.stdout.write(text)


def _print_table_row(r: dict) -> None:
    print(_table_row(r), end="", flush=True)


def _table_row(r: dict) -> str:
    if r.get("error"):
        return f"{r['file']}  ERROR {r['error']}\n"
    lines = [f"{r['file']}  ({r['duration_s']:.2f} s)"]
    lines += [f"  {t['score'] * 100:6.2f}%  {t['label']}" for t in r["top"]]
    for w in r.get("windows", []):
        best = w["scores"][0]
        lines.append(
            f"  [{w['start_s']:8.2f}-{w['end_s']:8.2f} s]  {best['label']} {best['score']:.3f}"
        )
    for e in r.get("events", []):
        lines.append(
            f"  event {e['start_s']:8.2f}-{e['end_s']:8.2f} s  {e['label']} {e['score']:.3f}"
        )
    return "\n".join(lines) + "\n"


def cmd_models(args: argparse.Namespace) -> int:
    from ast_core.store import model_store

    installed = model_store.installed_models()
    names = {m.name for m in installed}
    default = model_store.default_model()
    print("Installed models:")
    if not installed:
        print("  (none) " + model_store.no_model_message())
    for m in installed:
        mark = "*" if default is not None and m.path == default else " "
        print(f" {mark} {m.name}  [{m.origin}]  {m.path}")
    print("Known hub models (download with `ast-studio download ID`):")
    for repo_id, about in model_store.KNOWN_HUB_MODELS.items():
        state = "installed" if repo_id in names else "not downloaded"
        print(f"   {repo_id}  {about}  ({state})")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from ast_core.store import model_store

    repo_id = args.repo_id or model_store.DEFAULT_HUB_MODEL

    def progress(done: int, total: int) -> None:
        if total:
            print(f"\r{repo_id}: {done / 2**20:.1f} / {total / 2**20:.1f} MiB", end="", flush=True)

    path = model_store.download(repo_id, progress)
    print(f"\n{repo_id}: ready at {path}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from ast_core.store import model_store
    from ast_core.store.labels import LABEL_SETS, load_labels

    labels = None
    if args.labels in LABEL_SETS:
        labels = load_labels(args.labels)
    elif args.labels:
        with open(args.labels, newline="", encoding="utf-8") as f:
            labels = [row["display_name"] for row in csv.DictReader(f)]
    arch = {"fstride": args.fstride, "tstride": args.tstride}
    mode = args.label_mode or ("single" if args.labels in ("esc50", "speechcommands") else None)
    if mode:
        arch["label_mode"] = mode
    path = model_store.import_model(args.path, args.name, labels, **arch)
    if args.default:
        model_store.set_default_model(str(path))
    print(f"imported {args.path} as {path.name} ({path})")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    import tempfile

    import torch

    from bench.inference import machine, random_model_folder, run_bench

    every = args.all
    if args.gpu and not every:
        report = {"machine": machine()}
    else:
        report = run_bench(args.model, args.size, args.repeats, args.folder_clips, args.stride)
    if args.gpu or (every and torch.cuda.is_available()):
        from bench.gpu import run_gpu_bench
        from bench.train import training_throughput

        report["gpu"] = run_gpu_bench(args.model, args.size, stride=args.stride)
        if torch.cuda.is_available():
            report["gpu"]["training"] = [
                training_throughput(size, batch_size=16, steps=10, amp=amp, device="cuda")
                for size in ("tiny", "base384")
                for amp in ("fp32", "bf16")
            ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.model
        if (every or args.startup or args.live) and not folder:
            folder = random_model_folder(args.size, Path(tmp) / "model", args.stride)
        if every or args.startup:
            from bench.startup import startup_times

            report["startup"] = startup_times(str(_resolve(folder)))
        if every or args.train:
            from bench.train import training_throughput

            report["training"] = [
                training_throughput(size, amp=amp)
                for size in ("tiny", "base384")
                for amp in ("fp32", "bf16")
            ]
        if every or args.long:
            from bench.long import run_long_bench

            report["long"] = run_long_bench(args.model, precision=args.long_precision)
        if every or args.live:
            from bench.live import run_live_bench

            # the Live window's default: the model's input cut to the analysis window
            report["live"] = run_live_bench(str(folder), window_s=2.0, hop_s=0.5, fit_window=True)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        from ast_core.store.atomic import atomic_write_text

        atomic_write_text(args.out, text + "\n")
    return 0


def _resolve(source: str | Path) -> Path:
    from ast_core.store.model_store import resolve

    return resolve(source)
