"""The first import of torch, timm and the model code, without the garbage collector's passes.

Those imports leave hundreds of thousands of long-lived objects. With the cyclic collector
running it makes several full passes over them during the import (a good part of the import
time), and every full pass after it walks them all with the GIL held: a visible stall of the
window. Paused during the import and frozen after it (`gc.freeze`), they are never walked again.
The import itself leaves no cyclic garbage to collect (a collection right after it frees
nothing).
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
