"""`ast-studio classify`: label audio files and folders (table, JSON, CSV or event tables)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ast_core.accel import PRECISIONS

PRECISION_HELP = ("auto: bf16 where the hardware has it natively, else fp32; int8: dynamic int8 "
                  "linear layers on the CPU (faster, scores further from fp32)")


def add_parser(sub: Any) -> None:
    """Add `classify` to the `ast-studio` subparsers."""
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
    c.add_argument("--precision", choices=PRECISIONS, default="auto", help=PRECISION_HELP)
    c.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Classify every file; 2 when any file failed (each failure is told on stderr)."""
    from ast_core.errors import AstStudioError
    from ast_core.run.batch import EventOptions, Journal, analyse_files, find_audio, run_batch
    from ast_core.run.loading import load_classifier

    per_file = args.format in ("raven", "audacity")
    if (per_file or args.resume) and not args.out:
        raise AstStudioError(f"--format {args.format} and --resume need --out")
    files = find_audio(args.files, args.recursive)
    if not files:
        raise AstStudioError("no audio files found in " + ", ".join(args.files))
    clf = load_classifier(args.model, args.device, args.precision)
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
            print(_table_row(r), end="", flush=True)

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
