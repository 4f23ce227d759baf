"""`ast-studio train`: fine-tune an AST; the options are the trainer's own (`trainer.cli`).

The trainer (and torch) is imported only when `train` is the command: the subparser gets its
arguments on first use (see `app.cli.CommandParser`).
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    """Add `train` to the `ast-studio` subparsers."""
    t = sub.add_parser("train", help="fine-tune an AST on labeled clips (`python -m trainer`)",
                       description="Fine-tune an AST on a labeled folder or CSV. "
                       "`python -m trainer` takes the same options.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       define=_trainer_arguments)
    t.set_defaults(handler=run)


def _trainer_arguments(parser: argparse.ArgumentParser) -> None:
    from trainer.cli import add_arguments

    add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Train (or resume) as `python -m trainer` would with the same options."""
    from trainer.cli import run as train

    return train(args)
