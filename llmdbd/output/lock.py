"""One writer per state directory: an exclusive `flock` on `state_dir/llmdbd.lock`, held while the daemon runs
(or a `build --state-dir`, `history import` or `pull` writes there).

The kernel drops the lock when its holder exits, however it exits (kill -9 included), so a restart after a
crash never needs a lock file removed by hand; the file stays, holding the last holder's pid."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from llmdb.contract import LOCK_FILE
from llmdbd.errors import StateDirBusy


class StateLock:
    """The held lock; `release` (or the process's exit) lets the next writer in."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd = fd
        self.path = path

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> StateLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def hold(state_dir: str | os.PathLike[str], what: str) -> StateLock:
    """Lock `state_dir` (created if missing) for this process, recording its pid and `what` it does;
    `StateDirBusy` naming the holder when another process has it, `OSError` when the directory is unusable."""
    path = Path(state_dir) / LOCK_FILE
    Path(state_dir).mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 256, 0).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise StateDirBusy(
            f"{state_dir}: the state directory is in use by {holder}; stop it first (one writer per state directory)"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"llmdbd pid {os.getpid()} ({what})\n".encode(), 0)
    return StateLock(fd, path)
