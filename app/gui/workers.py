"""Background work on the Qt thread pool through superqt workers; results come back as signals.

`start` wraps `superqt.create_worker`: plain functions emit `returned`, generator functions also
`yielded` (progress) and can be cancelled cooperatively with `worker.quit()`. Every worker gets
an `errored` handler, so no exception is re-raised on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QThreadPool
from superqt.utils import WorkerBase, create_worker

from app.gui.log import log


def start(
    func: Callable[..., Any],
    *args: Any,
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
    on_yield: Callable[[Any], None] | None = None,
    on_finish: Callable[[], None] | None = None,
    **kwargs: Any,
) -> WorkerBase:
    """Run `func(*args, **kwargs)` on the thread pool and connect the callbacks."""
    connect: dict[str, Callable] = {"errored": on_error or _log_error}
    if on_result is not None:
        connect["returned"] = on_result
    if on_yield is not None:
        connect["yielded"] = on_yield
    if on_finish is not None:
        connect["finished"] = on_finish
    worker = create_worker(func, *args, _start_thread=False, _connect=connect, **kwargs)
    worker.start()
    return worker


def _log_error(exc: Exception) -> None:
    log.error("worker failed", exc_info=(type(exc), exc, exc.__traceback__))


def wait_all(timeout_ms: int = 30_000) -> bool:
    """Ask running workers to stop and wait for the pool; True when all finished in time."""
    for worker in list(WorkerBase._worker_set):
        worker.quit()
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
