"""The one atomic writer: data and folder fsynced, the old file kept and no temp left on failure."""

from __future__ import annotations

import os

import pytest

from ast_core.store import atomic
from ast_core.store.atomic import atomic_write, atomic_write_folder, atomic_write_text


class FsyncLog:
    """Every fsync as (inode, bytes of `watched` at that moment, or None when it is absent)."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, bytes | None]] = []
        self.watched = None

    def record(self, fd: int) -> None:
        now = self.watched.read_bytes() if self.watched and self.watched.is_file() else None
        self.calls.append((os.fstat(fd).st_ino, now))


@pytest.fixture
def fsyncs(monkeypatch):
    log = FsyncLog()
    real = os.fsync

    def record(fd):
        log.record(fd)
        real(fd)

    monkeypatch.setattr(atomic.os, "fsync", record)
    return log


def test_write_fsyncs_the_data_before_the_rename_and_the_folder_after(tmp_path, fsyncs):
    path = tmp_path / "run.json"
    path.write_text("old")
    fsyncs.watched = path
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
    assert fsyncs.calls == [
        (path.stat().st_ino, b"old"),  # the new file's data, while the old file is still in place
        (tmp_path.stat().st_ino, b"new"),  # then the folder that holds the rename
    ]


def test_a_write_that_fails_midway_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"previous")

    def half_then_fail(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(b"half of the new")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half_then_fail)
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


def test_a_missing_folder_is_made_unless_the_caller_says_not_to(tmp_path):
    assert atomic_write_text(tmp_path / "a" / "b.txt", "x").read_text() == "x"
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "missing" / "c.txt", lambda tmp: None, make_parents=False)
    assert not (tmp_path / "missing").exists()


def test_folder_write_fsyncs_every_file_and_both_folders(tmp_path, fsyncs):
    def fill(folder):
        (folder / "sub").mkdir()
        (folder / "config.json").write_text("{}")
        (folder / "sub" / "weights.bin").write_bytes(b"\0" * 8)

    out = atomic_write_folder(tmp_path / "model", fill)
    assert out == tmp_path / "model"
    inodes = {ino for ino, _ in fsyncs.calls}
    expected = {
        out.stat().st_ino,
        (out / "sub").stat().st_ino,
        (out / "config.json").stat().st_ino,
        (out / "sub" / "weights.bin").stat().st_ino,
        tmp_path.stat().st_ino,
    }
    assert inodes == expected
    assert fsyncs.calls[-1][0] == tmp_path.stat().st_ino  # the parent last, after the rename


def test_folder_write_that_fails_leaves_nothing_and_never_replaces(tmp_path):
    def fail(folder):
        (folder / "config.json").write_text("{}")
        raise RuntimeError("bad weights")

    with pytest.raises(RuntimeError, match="bad weights"):
        atomic_write_folder(tmp_path / "model", fail)
    assert list(tmp_path.iterdir()) == []

    (tmp_path / "model").mkdir()
    with pytest.raises(FileExistsError):
        atomic_write_folder(tmp_path / "model", lambda folder: None)
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
