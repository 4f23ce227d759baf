"""Overlap waiting with the model: the next items of an iterator are produced on a thread.

For work that waits rather than computes (reading the next files of a batch from a disk or a
network share). Decoding ahead on a thread was measured and dropped: when the model already
fills the cores, it made folders and long files slower (figures in the README;
`ast_core.run.batch.run_batch` uses this module).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_ITEM, _ERROR, _END = range(3)


def read_ahead(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """Yield `items` in order while a background thread produces up to `depth` more ahead.

    An exception raised by `items` is raised here when its position is reached. Closing the
    returned generator (or dropping it) stops the thread after the item it is producing, and
    the thread closes `items` (a generator's open file, say) itself.
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        source = iter(items)
        try:
            for item in source:
                if not put((_ITEM, item)):
                    return
            put((_END, None))
        except Exception as e:  # handed to the consumer, raised there
            put((_ERROR, e))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    threading.Thread(target=produce, name="read-ahead", daemon=True).start()
    try:
        while True:
            kind, value = ready.get()
            if kind == _END:
                return
            if kind == _ERROR:
                raise value
            yield value
    finally:
        stop.set()
