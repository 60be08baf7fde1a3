"""Waiting for a change in a few directories without polling: Linux inotify through ctypes (stdlib only).

The snapshot checker blocks here, so an idle process wakes only when a watched directory changes or its
fallback timeout passes. `Watcher.create()` is None where inotify is unavailable; the checker then polls.
"""

from __future__ import annotations

import ctypes
import os
import select

_IN_CLOSE_WRITE = 0x00000008
_IN_MOVED_TO = 0x00000080
_IN_CREATE = 0x00000100
_MASK = _IN_CLOSE_WRITE | _IN_MOVED_TO | _IN_CREATE
"""A file written, renamed into place (how publishers replace the snapshot), or created."""


class Watcher:
    """One inotify descriptor watching directories for new or rewritten files."""

    def __init__(self, fd: int, libc: ctypes.CDLL) -> None:
        self._fd = fd
        self._libc = libc
        self._dirs: set[str] = set()

    @classmethod
    def create(cls) -> Watcher | None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        except (OSError, AttributeError):
            return None
        return cls(fd, libc) if fd >= 0 else None

    def watch(self, directories: set[str]) -> bool:
        """Watch every directory in `directories` not watched yet; False if one cannot be (then poll)."""
        for directory in directories - self._dirs:
            if self._libc.inotify_add_watch(self._fd, os.fsencode(directory), _MASK) < 0:
                return False
            self._dirs.add(directory)
        return True

    def wait(self, timeout: float) -> bool:
        """Block until a watched directory changes (True; the events are drained) or `timeout` passes."""
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return False
        try:
            while os.read(self._fd, 65536):
                pass
        except BlockingIOError:
            pass
        return True

    def close(self) -> None:
        os.close(self._fd)
