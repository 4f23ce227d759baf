"""`ast-studio models`, `download` and `import`: what models there are, and getting more."""

from __future__ import annotations

import argparse
import csv
from typing import Any


def add_parser(sub: Any) -> None:
    """Add `models`, `download` and `import` to the `ast-studio` subparsers."""
    m = sub.add_parser("models", help="list known and installed models")
    m.set_defaults(handler=list_models)

    d = sub.add_parser("download", help="download a hub model into the Hugging Face cache")
    d.add_argument("repo_id", nargs="?", default=None)
    d.set_defaults(handler=download)

    i = sub.add_parser("import", help="install a .pth, .safetensors or model folder")
    i.add_argument("path")
    i.add_argument("--name", help="name of the installed model (default: file name)")
    i.add_argument("--labels", help="audioset, esc50, speechcommands, or a CSV with display_name")
    i.add_argument("--fstride", type=int, default=10)
    i.add_argument("--tstride", type=int, default=None)
    i.add_argument("--label-mode", choices=["multi", "single"], default=None)
    i.add_argument("--default", action="store_true", help="make it the default model")
    i.set_defaults(handler=import_model)


def list_models(args: argparse.Namespace) -> int:
    """Print the installed models (* marks the default) and the known hub models."""
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


def download(args: argparse.Namespace) -> int:
    """Download a hub model (default: the AudioSet one), showing MiB done."""
    from ast_core.store import model_store

    repo_id = args.repo_id or model_store.DEFAULT_HUB_MODEL

    def progress(done: int, total: int) -> None:
        if total:
            print(f"\r{repo_id}: {done / 2**20:.1f} / {total / 2**20:.1f} MiB", end="", flush=True)

    path = model_store.download(repo_id, progress)
    print(f"\n{repo_id}: ready at {path}")
    return 0


def import_model(args: argparse.Namespace) -> int:
    """Install a weights file or model folder into the model store."""
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
