"""Following a path: `SnapshotHandle` serves the current `Snapshot` there, and one checker thread per process keeps
every handle fresh.

Freshness is not paid per lookup. On Linux the checker sleeps in inotify until a file lands in a watched
directory (then `stat`s the handles there: a new file is served within milliseconds), and wakes every
`FALLBACK_CHECK_SECONDS` to read each handle's superseded bit (set by the publisher in the old file's header)
and `stat` its path. Without inotify it polls every `CHECK_SECONDS`. So a new file is served within
`CHECK_SECONDS` at worst (`refresh()` makes it at once); lookups in between never lock and make no system
call. When the day changes, the checker tells each catalog to forget what it cached: lifecycle is answered as
of today (`_calendar`). A file that fails verification is refused and the handle falls back to the one it
served. The thread is restarted in a forked child, and ends when no handle is left.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from llmdb import _calendar
from llmdb._snapshot import Snapshot
from llmdb._watch import Watcher  # at import, never in the checker thread: a fork mid-import would deadlock
from llmdb.errors import SnapshotError

_T = TypeVar("_T")

CHECK_SECONDS = 0.05
"""Without inotify, how often the checker reads each handle's superseded bit: the bound on how late a new file
is served."""
FALLBACK_CHECK_SECONDS = 1.0
"""How often the checker `stat`s each path regardless (a missed event, a publisher that died mid-publish)."""


class SnapshotHandle:
    """The current `Snapshot` at a path, replaced by the checker thread when a newer file is published there.

    A file that fails verification is refused: the handle keeps serving the mapping it has, records the
    error in `last_error`, warns once, and does not retry that same file. `add_listener` callbacks learn of
    each new mapping (a catalog drops what it cached from the old one)."""

    def __init__(
        self, path: str | os.PathLike[str] | Callable[[], str], *, follow: bool = True, profile: str | None = None
    ) -> None:
        """`path`, or a function finding it at first use; `follow=False`: no checker thread, the handle changes
        only when `check()` is called; `profile`: every file is read as that profile sees it. Nothing is
        opened, and no thread started, before the first lookup."""
        self.profile = profile
        self._locate = path if callable(path) else None
        self.path = os.fspath(path) if not callable(path) else ""
        """The path followed, as given (a string: no pathlib on the path to a first lookup)."""
        self.last_error: SnapshotError | None = None
        self._lock = threading.Lock()
        self._refused: tuple[int, int, int, int] | None = None
        self._next_check = 0.0
        self._snap: Snapshot | None = None
        self._watch_flag = True
        self._listeners: list[weakref.WeakMethod[Any]] = []
        self._follow = follow
        self._previous: Snapshot | None = None
        """The mapping served before the current one: where `reject` goes back to."""
        _HANDLES.add(self)

    def current(self) -> Snapshot:
        """The mapping to answer from: one attribute read (the file is opened on first use)."""
        snap = self._snap
        return snap if snap is not None else self._refresh()

    def check(self, *, force: bool = False) -> Snapshot:
        """The freshness test, run by the checker thread: reopen when the superseded bit is set, or when the
        fallback `stat` is due (`force`: now) and shows another file."""
        snap = self._snap
        if snap is None or force or (self._watch_flag and snap.superseded) or time.monotonic() >= self._next_check:
            return self._refresh()
        return snap

    def reject(self, snap: Snapshot, error: SnapshotError) -> bool:
        """`snap` turned out corrupt after it was mapped (a record failed its checksum or did not decode): refuse
        it as if it had failed at open, going back to the mapping served before. True when the caller can retry
        on another mapping; False when there is none to go back to."""
        with self._lock:
            if self._snap is not snap:
                return self._snap is not None  # already replaced: retry on the current one
            previous = self._previous
            if previous is None:
                return False
            self._snap, self._previous = previous, None
            self._refused, self.last_error, self._watch_flag = snap.identity, error, False
        warnings.warn(f"llmdb: refusing snapshot, back to epoch {previous.epoch}: {error}", stacklevel=3)
        self._notify(previous)
        return True

    def attempt(self, work: Callable[..., _T], *args: Any) -> tuple[Snapshot, _T]:
        """`work(current mapping, *args)`; when a record of a new mapping turns out corrupt, go back to the mapping
        served before (`reject`) and do the work there."""
        while True:
            snap = self.current()
            try:
                return snap, work(snap, *args)
            except SnapshotError as exc:
                if not self.reject(snap, exc):
                    raise

    def add_listener(self, callback: Any) -> None:
        """Call the bound method `callback(snapshot)` after each new mapping (held weakly)."""
        self._listeners.append(weakref.WeakMethod(callback))

    def _refresh(self) -> Snapshot:
        with self._lock:
            before = self._snap
            snap = self._open()
            if snap is not before:
                self._previous = before
                if before is not None:
                    before.shed()  # kept to fall back to, not to answer from
        if snap is not before:
            self._notify(snap)
        return snap

    def _notify(self, snap: Snapshot) -> None:
        for listener in list(self._listeners):
            method = listener()
            if method is not None:
                method(snap)

    def _open(self) -> Snapshot:
        snap = self._snap
        if snap is None and self._locate is not None:
            self.path = self._locate()
        self._next_check = time.monotonic() + FALLBACK_CHECK_SECONDS
        try:
            st = os.stat(self.path)
            identity = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError as exc:
            if snap is None:
                raise SnapshotError(f"{self.path}: cannot open snapshot: {exc.strerror or exc}") from None
            return snap  # the file vanished: keep serving what we have
        if snap is not None and identity == snap.identity:
            # Same file; its superseded bit is set but nothing newer is there yet (or it is a retained copy).
            self._watch_flag = not snap.superseded
            return snap
        if identity == self._refused and snap is not None:
            self._watch_flag = False
            return snap
        try:
            fresh = Snapshot(self.path, self.profile)
        except SnapshotError as exc:
            if snap is None:
                raise
            self._refused, self.last_error, self._watch_flag = identity, exc, False
            warnings.warn(f"llmdb: refusing new snapshot, still serving epoch {snap.epoch}: {exc}", stacklevel=3)
            return snap
        self._snap, self._watch_flag, self.last_error = fresh, True, None
        if snap is None and self._follow:
            _FOLLOWED.add(self)
            _ensure_checker()
        return fresh

    def close(self) -> None:
        self._snap = None
        _FOLLOWED.discard(self)


_HANDLES: weakref.WeakSet[SnapshotHandle] = weakref.WeakSet()
"""Every handle (their locks are renewed in a forked child)."""
_FOLLOWED: weakref.WeakSet[SnapshotHandle] = weakref.WeakSet()
"""The handles the checker thread keeps fresh."""
_checker: threading.Thread | None = None
_checker_lock = threading.Lock()
_watcher: Watcher | None = None
"""The running checker's inotify descriptor (a forked child closes its copy and makes its own)."""
checker_wakeups = 0
"""How many times this process's checker thread has woken (for `bench` and tests: idle cost is countable)."""


def _ensure_checker() -> None:
    """Start this process's checker thread if it is not running."""
    global _checker
    with _checker_lock:
        if _checker is None or not _checker.is_alive():
            _checker = threading.Thread(target=_check_loop, name="llmdb-snapshot-checker", daemon=True)
            _checker.start()


def _check_loop() -> None:
    global _checker, _watcher, checker_wakeups
    watcher = _watcher = Watcher.create()  # None where inotify is unavailable: poll every CHECK_SECONDS instead
    try:
        while True:
            # No reference to a handle is held across the wait: a catalog dropped meanwhile must be freed.
            directories = {os.path.dirname(os.path.abspath(handle.path)) for handle in list(_FOLLOWED)}
            if not directories:
                with _checker_lock:
                    if not _FOLLOWED:
                        _checker = None
                        return
                continue
            if watcher is not None and watcher.watch(directories):
                changed = watcher.wait(FALLBACK_CHECK_SECONDS)  # a directory event, or the fallback's turn
            else:
                time.sleep(CHECK_SECONDS)
                changed = False
            checker_wakeups += 1
            _check_all(changed)
    finally:
        if watcher is not None:
            _watcher = None
            watcher.close()


_day = _calendar.today()
"""The day the last check ran on (`_calendar.today`), from the import on: answers cached before a check are
from this day or later."""


def _check_all(changed: bool) -> None:
    global _day
    day = _calendar.today()
    passed, _day = day != _day, day
    for handle in list(_FOLLOWED):
        try:
            snap = handle._snap
            if passed and snap is not None:  # midnight: what was cached yesterday may be deprecated today
                handle._notify(snap)
            handle.check(force=changed)
        except SnapshotError:
            pass  # not opened yet and not openable: the next lookup says why
        except Exception as exc:  # a listener's bug must not stop freshness for every other handle
            warnings.warn(f"llmdb: snapshot checker: {exc!r}", stacklevel=1)


def _after_fork_in_child() -> None:
    # A fork taken while another thread held a lock would leave the child's copy held forever; and threads do not
    # survive a fork: the child needs its own checker.
    global _checker, _checker_lock, _watcher
    _checker_lock = threading.Lock()
    _checker = None
    if _watcher is not None:
        _watcher.close()  # the parent's: events read here would be lost to it
        _watcher = None
    for handle in list(_HANDLES):
        handle._lock = threading.Lock()
    if _FOLLOWED:
        _ensure_checker()


os.register_at_fork(after_in_child=_after_fork_in_child)
