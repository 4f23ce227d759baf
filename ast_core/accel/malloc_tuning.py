"""Keep freed memory in the process for reuse (glibc), instead of handing it back to the OS.

A base384 forward pass allocates and frees several hundred MB of 4-15 MB activations. With
glibc's defaults many of those come from fresh `mmap`s, and touching them costs a page fault
per page, every clip: a sizeable share of the CPU time. Raising the mmap and trim thresholds
lets the heap reuse those pages; up to 256 MB of freed memory then stays resident between runs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1  # from glibc's <malloc.h>
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_MAX = 32 << 20  # glibc's ceiling on 64-bit
_TRIM_THRESHOLD = 256 << 20

_done = False


def keep_freed_memory() -> bool:
    """Set the thresholds once per process; False where the C library is not glibc."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mmap_ok = mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)
    _done = bool(mmap_ok and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
    return _done


def freed_memory_kept() -> bool:
    """Whether `keep_freed_memory` has taken effect in this process."""
    return _done
