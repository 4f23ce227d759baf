"""PySide6's look at every module imported after it, made cheap for the big first import.

Once PySide6 is loaded, each new module goes through `shibokensupport.feature._mod_uses_pyside`,
which reads the module's source with `inspect.getsource` to look for "PySide6" (for PySide's
opt-in `from __feature__ import ...`). For the 2,300 modules that torch, timm and torchvision
bring, that is a noticeable part of the model's start-up, and `linecache` kept all of their
source in memory for good (the README's start-up section has the figures).
`quick_pyside_scan` answers the same question from each file's bytes and leaves `linecache`
alone.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType


def _reads_bytes(original: Callable[[ModuleType], bool]) -> Callable[[ModuleType], bool]:
    def uses_pyside(module: ModuleType) -> bool:
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            return original(module)
        try:
            with open(path, "rb") as f:
                return b"PySide6" in f.read()
        except OSError:
            return original(module)

    uses_pyside.reads_bytes = True
    return uses_pyside


@contextmanager
def quick_pyside_scan() -> Iterator[None]:
    """Within the block, PySide6 checks new modules from their bytes (same answer, no source
    kept); a no-op where PySide6 isn't loaded or no longer has this hook, and in a block that
    overlaps another (two models loading at once): only the first one restores the hook."""
    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if original is None or getattr(original, "reads_bytes", False):
        yield
        return
    feature._mod_uses_pyside = _reads_bytes(original)
    try:
        yield
    finally:
        feature._mod_uses_pyside = original
