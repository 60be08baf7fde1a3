"""Atomic file replacement: readers see the old bytes or the new, never a mix, even across a crash."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def atomic_write(target: str | os.PathLike[str], data: bytes, *, mode: int = 0o644) -> None:
    """Write `data` to a temp file beside `target`, fsync it, rename it over `target`, fsync the directory."""
    target = Path(target)
    tmp = target.parent / f".{target.name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fchmod(fd, mode)  # the umask must not narrow it: the snapshot and status are for every process
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    os.close(fd)
    os.replace(tmp, target)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_stale_temps(directory: str | os.PathLike[str], name: str) -> None:
    """Temp files of `name` left in `directory` by a writer killed mid-write."""
    for path in Path(directory).glob(f".{name}.*.tmp"):
        with contextlib.suppress(OSError):
            path.unlink()
