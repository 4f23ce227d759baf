"""`ast-studio gui [FILE...]`: open the desktop app (what `ast-studio FILE...` also does)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    """Add `gui` to the `ast-studio` subparsers."""
    g = sub.add_parser("gui", help="open the desktop app")
    g.add_argument("files", nargs="*")
    g.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Open the window (with `args.files`); returns when it closes."""
    from app.gui.launch import run_gui

    return run_gui(args.files)
