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

    c = sub.add_parser("classify", help="label audio files")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("--model", help="model folder, installed model name or hub id")
    c.add_argument("--top-k", type=int, default=5)
    c.add_argument("--window", type=float, help="window length in seconds (long audio)")
    c.add_argument("--hop", type=float, help="hop between windows in seconds")
    c.add_argument("--format", choices=["table", "json", "csv"], default="table")
    c.add_argument("--device", help="cpu, cuda or mps (default: best available)")

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
    b.add_argument("--repeats", type=int, default=5)
    b.add_argument("--size", default="base384", help="model size (default base384)")
    b.add_argument("--out", help="also write the JSON here")

    g = sub.add_parser("gui", help="open the desktop app")
    g.add_argument("files", nargs="*")
    return p


def run(argv: list[str]) -> int:
    if argv and argv[0] == "train":
        from trainer.cli import main as train_main

        return train_main(argv[1:])
    if not argv or argv[0] not in COMMANDS and not argv[0].startswith("-"):
        from app.gui import run_gui

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
    from app.gui import run_gui

    return run_gui(args.files)


def _load_classifier(model: str | None, device: str | None):
    from ast_core import model_store
    from ast_core.errors import ModelError
    from ast_core.inference import Classifier

    source = model or model_store.default_model()
    if source is None:
        raise ModelError(model_store.no_model_message())
    return Classifier.load(source, device)


def classify_file(clf, path: str, top_k: int, window: float | None, hop: float | None) -> dict:
    """One result object of `classify --format json` (see README)."""
    from ast_core.audio import load_audio

    wav = load_audio(path)
    rate = clf.fbank.sample_rate
    result = {"file": path, "duration_s": len(wav) / rate, "model": clf.name}
    long_clip = len(wav) / rate > clf.window_seconds + 1e-6
    if window or hop or long_clip:
        ws = clf.score_windows(wav, window, hop)
        # A clip is as much "dog" as its most dog-like window; softmax models average windows.
        scores = ws.scores.mean(0) if clf.label_mode == "single" else ws.scores.max(0)
        if window or hop:
            result["windows"] = [
                {"start_s": float(s), "end_s": float(e), "scores": _top(clf.labels, row, top_k)}
                for s, e, row in zip(ws.starts, ws.ends, ws.scores, strict=True)
            ]
    else:
        scores = clf.predict(wav).scores
    result["top"] = _top(clf.labels, scores, top_k)
    return result


def _top(labels: list[str], scores, k: int) -> list[dict]:
    import numpy as np

    order = np.argsort(-scores, kind="stable")[:k]
    return [{"label": labels[i], "score": float(scores[i])} for i in order]


def cmd_classify(args: argparse.Namespace) -> int:
    from ast_core.errors import AudioError

    clf = _load_classifier(args.model, args.device)
    results, failed = [], 0
    for path in args.files:
        try:
            r = classify_file(clf, path, args.top_k, args.window, args.hop)
            r["error"] = None
        except AudioError as e:
            failed += 1
            print(f"ast-studio: {e}", file=sys.stderr)
            r = {"file": path, "duration_s": None, "model": clf.name, "top": [], "error": str(e)}
        results.append(r)
        if args.format == "table":
            _print_table_row(r)
    if args.format == "json":
        json.dump(results, sys.stdout, indent=2, ensure_ascii=False)
        print()
    elif args.format == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(["file", "duration_s", "rank", "label", "score", "error"])
        for r in results:
            for rank, t in enumerate(r["top"], 1):
                w.writerow([r["file"], r["duration_s"], rank, t["label"], t["score"], ""])
            if r["error"]:
                w.writerow([r["file"], "", "", "", "", r["error"]])
    return 2 if failed else 0


def _print_table_row(r: dict) -> None:
    if r.get("error"):
        return
    print(f"{r['file']}  ({r['duration_s']:.2f} s)")
    for t in r["top"]:
        print(f"  {t['score'] * 100:6.2f}%  {t['label']}")
    for w in r.get("windows", []):
        best = w["scores"][0]
        print(f"  [{w['start_s']:8.2f}-{w['end_s']:8.2f} s]  {best['label']} {best['score']:.3f}")


def cmd_models(args: argparse.Namespace) -> int:
    from ast_core import model_store

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
    from ast_core import model_store

    repo_id = args.repo_id or model_store.DEFAULT_HUB_MODEL

    def progress(done: int, total: int) -> None:
        if total:
            print(f"\r{repo_id}: {done / 2**20:.1f} / {total / 2**20:.1f} MiB", end="", flush=True)

    path = model_store.download(repo_id, progress)
    print(f"\n{repo_id}: ready at {path}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from ast_core import model_store
    from ast_core.labels import LABEL_SETS, load_labels

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
    from ast_core.bench import run_bench

    report = run_bench(size=args.size, repeats=args.repeats)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0
