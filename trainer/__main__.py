"""`python -m trainer ...` (and `torchrun -m trainer ...`): the training CLI."""

from __future__ import annotations

import multiprocessing
import sys

from trainer.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
