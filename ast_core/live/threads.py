"""How many torch threads live analysis uses, set for a block and restored after it."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def live_threads() -> int:
    """Torch threads for live analysis: all cores but one, left to audio, drawing and the OS
    (on a busy machine, threads spinning on every core made a short window many times slower)."""
    return max(1, (os.cpu_count() or 2) - 1)


class _ThreadCount:
    """The count before the first of overlapping `torch_threads` blocks, and how many are open."""

    lock = threading.Lock()
    open = 0
    before = 0


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with `n` torch threads (a process-wide setting), then restore the count.

    Blocks may overlap across threads (a live run still ending while the next starts): the
    count set before the first of them comes back when the last one ends.
    """
    import torch

    with _ThreadCount.lock:
        if _ThreadCount.open == 0:
            _ThreadCount.before = torch.get_num_threads()
        _ThreadCount.open += 1
        torch.set_num_threads(n)
    try:
        yield
    finally:
        with _ThreadCount.lock:
            _ThreadCount.open -= 1
            if _ThreadCount.open == 0:
                torch.set_num_threads(_ThreadCount.before)
