"""The first import of torch, timm and the model code, without the garbage collector's passes.

Those imports leave about 600k long-lived objects. With the cyclic collector running it made
six full passes over them during the import (about 0.6 s of 2.1-2.9 s here), and every full
pass after it took about 0.3 s with the GIL held: a stall of the window. Paused during the
import and frozen after it (`gc.freeze`), they are never walked again. The import itself left
no cyclic garbage to collect (measured: a collection right after it freed 0 objects).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def heavy_imports() -> Iterator[None]:
    """Wrap the first `import torch`/`ast_core.run.classifier`; a no-op once torch is imported, so
    models loaded later (which can become garbage) are never frozen."""
    if "torch" in sys.modules or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
