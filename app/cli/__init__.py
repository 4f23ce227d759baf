"""`ast-studio`: the command line. Each command lives in its own module (`add_parser`, `run`).

`ast-studio` with no command, or with audio files, opens the desktop app. Heavy modules
(torch, Qt, the trainer) are imported inside the command that needs them, so building the
parser (and `--help`) stays cheap.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from app.cli import bench, classify, gui, listen, models, train

COMMAND_MODULES = (classify, models, train, listen, bench, gui)


class CommandParser(argparse.ArgumentParser):
    """One command's parser. `define(parser)`, when given, adds the arguments on first use:
    `ast-studio --help` lists `train` without importing the trainer (and torch)."""

    def __init__(self, *args: Any,
                 define: Callable[[argparse.ArgumentParser], None] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._define = define

    def _defined(self) -> None:
        if self._define is not None:
            define, self._define = self._define, None
            define(self)

    def parse_known_args(self, args: Sequence[str] | None = None,
                         namespace: argparse.Namespace | None = None
                         ) -> tuple[argparse.Namespace, list[str]]:
        self._defined()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self._defined()
        return super().format_help()


def _build() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    parser = argparse.ArgumentParser(
        prog="ast-studio",
        description="Label sounds with the Audio Spectrogram Transformer. "
        "With no command (or with audio files) the desktop app opens.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=CommandParser)
    for module in COMMAND_MODULES:
        module.add_parser(sub)
    return parser, sub.choices


def build_parser() -> argparse.ArgumentParser:
    """The `ast-studio` parser: one subparser per command, each set to call its `run(args)`."""
    return _build()[0]


def command_names() -> list[str]:
    """The commands, in the order `ast-studio --help` lists them."""
    return list(_build()[1])


def run(argv: list[str]) -> int:
    """Run `ast-studio ARGV...`; returns the exit status (2: a user error, told on stderr)."""
    if not argv or (argv[0] not in command_names() and not argv[0].startswith("-")):
        from app.gui.launch import run_gui

        return run_gui(argv)
    args = build_parser().parse_args(argv)
    from ast_core.errors import AstStudioError

    try:
        return args.handler(args)
    except AstStudioError as e:
        print(f"ast-studio: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
