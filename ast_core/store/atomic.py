"""Atomic writes: fill a temporary file (or folder) beside the target, fsync, then rename over it.

The one way this code base replaces a file. A crash, a full disk or an exception from the writer
leaves either the old file or the new one, never half of either, and no temporary file behind.
The data is fsynced before the rename and the folder after it, so the rename itself survives a
power cut.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def fsync_path(path: str | os.PathLike) -> None:
    """Flush a file, or a folder's entries, to disk. Folders are skipped on Windows (cannot be
    opened; NTFS journals renames itself)."""
    if os.path.isdir(path):
        if os.name == "nt":
            return
        fd = os.open(path, os.O_RDONLY)
    else:
        fd = os.open(path, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: str | os.PathLike, write: Callable[[str], None], *, make_parents: bool = True
) -> Path:
    """Call `write(tmp_path)` to fill a temporary file, then move it onto `path`.

    With `make_parents=False` a missing folder is an error (FileNotFoundError) and nothing is
    created.
    """
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        fsync_path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_path(path.parent)
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_folder(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp_folder)` to fill a temporary folder, then rename it to `path`.

    `path` must not exist yet (a folder is never replaced: FileExistsError). Every file in the
    folder is fsynced before the rename; on any error the temporary folder is removed.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        write(tmp)
        for folder, _, files in os.walk(tmp):
            for name in files:
                fsync_path(os.path.join(folder, name))
            fsync_path(folder)
        if path.exists():  # appeared while `write` ran; os.rename would merge into an empty one
            raise FileExistsError(path)
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_path(path.parent)
    return path
