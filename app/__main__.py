"""`ast-studio` console script. Imports no Qt here: headless commands never load it."""

from __future__ import annotations

import multiprocessing
import sys


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()
    if sys.stdout is None:  # frozen windowed app: give print() somewhere to go
        import io

        sys.stdout = sys.stderr = io.StringIO()
    from app.cli import run

    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
