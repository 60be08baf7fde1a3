"""`Rebuilder`: one build and publish from the daemon's current inputs, and what the log and status say of it.

A state holder without an event loop: the service calls `rebuild` in a worker thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import msgspec

from llmdb import SnapshotError, contract
from llmdb.contract import RejectedFile, iso
from llmdb.schema import BuildIssue, BuildReport
from llmdbd import inputs
from llmdbd.config import Config
from llmdbd.daemon import status
from llmdbd.daemon.patch_store import PatchStore
from llmdbd.daemon.upstream import UpstreamState, release_holds
from llmdbd.engine import BuiltCatalog, Layer, ModelCache, collector_paused, prepare
from llmdbd.engine.catalog import changes
from llmdbd.engine.report import ordered
from llmdbd.errors import BuildError
from llmdbd.output.history import History
from llmdbd.output.publish import PublishResult, publish
from llmdbd.output.snapshot import Memo
from llmdbd.sources import packaged
from llmdbd.sources.upstreams import UPSTREAMS

ISSUES_IN_EVENT = 5
"""Issues named in a `catalog_*` event (all are counted, and up to `ISSUES_IN_STATUS` are in status.json)."""
ISSUES_IN_STATUS = 500


class Base(Protocol):
    """A catalog builds start from instead of the upstreams (`fleet.follow.Follower`: a leader's file)."""

    def layer(self) -> Layer | None: ...

    def catalog(self) -> BuiltCatalog | None: ...


class FleetReport(Protocol):
    """The fleet's part of the status file (`daemon.fleet.Fleet`)."""

    def publish_status(self) -> list[contract.PublishStatus] | None: ...

    def follow_status(self, served_hash: str | None) -> contract.FollowStatus | None: ...


class Rebuilder:
    """Owns the state directory's inputs (patch store, upstream state) and what the last build published."""

    def __init__(
        self, config: Config, config_file: Path | None, *, base: Base | None = None, fleet: FleetReport | None = None
    ) -> None:
        self.config = config
        self.config_file = config_file
        self.base = base
        """Builds start from its catalog, not the upstreams' (a followed leader's)."""
        self.fleet = fleet
        self.state = Path(config.state_dir)
        self.patches = PatchStore(self.state)
        self.upstreams = {name: UpstreamState(self.state, name) for name in UPSTREAMS}
        self.started_at = iso(time.time())
        self._cache = ModelCache()
        self._memo = Memo()
        self._last: BuiltCatalog | None = None
        self.served: dict[str, Any] = {}
        """Epoch, content hash and build time of the catalog being served (empty before the first publish)."""
        self._trigger = ""
        self._released: list[str] = []
        """Holds released since the last `catalog_*` event, for the next one."""
        self._report = BuildReport()
        self._lock = threading.RLock()
        self.history = History(
            self.state / contract.HISTORY_FILE, retention_days=config.history_days, seed=packaged.history_path()
        )

    def reconfigure(self, config: Config, config_file: Path | None) -> None:
        """Take a reloaded configuration; the next rebuild uses it (one running now keeps the one it took).

        Called on the event loop: it must not wait for the lock a rebuild holds in its thread."""
        self.config, self.config_file = config, config_file

    def prepare(self) -> None:
        """Create the state directory and load what earlier runs left (`OSError` if it is unusable)."""
        self.state.mkdir(parents=True, exist_ok=True)
        self.patches.load()
        for state in self.upstreams.values():
            state.load_cache()

    def rebuild(self, trigger: str) -> tuple[str, dict[str, Any], list[RejectedFile]]:
        """Build and publish; the `catalog_*` event's name and fields, and the patch rejections new this time.

        A state directory that cannot be written is `publish_failed`: the last published file keeps serving."""
        try:
            with self._lock, collector_paused():
                return self._rebuild(trigger)
        except SnapshotError as exc:  # the packaged catalog, read as an input, failed verification
            self._write_status(False)
            return "build_failed", {"trigger": trigger, "error": str(exc)}, []
        except OSError as exc:
            return (
                "publish_failed",
                {"trigger": trigger, "error": f"{exc.filename or self.state}: {exc.strerror or exc}"},
                [],
            )
        finally:
            _release_memory()

    def _rebuild(self, trigger: str) -> tuple[str, dict[str, Any], list[RejectedFile]]:
        started = time.perf_counter()
        config = self.config
        patch_layers, rejections = self.patches.layers(config.patch_dirs)
        self._trigger = trigger
        file = str(self.config_file) if self.config_file else None
        try:
            catalog = _to_publish(
                config, file, self.base, lambda: self.upstream_layers(config, patch_layers), patch_layers, self._cache
            )
        except BuildError as exc:
            self._report = exc.report
            self._write_status(False)
            return "build_failed", {"trigger": trigger, "error": str(exc)}, rejections
        publish_started = time.perf_counter()
        result = publish(catalog, self.state, keep=config.keep, memo=self._memo)
        report = catalog.report
        fields: dict[str, Any] = {
            "trigger": trigger,
            "changes": changes(self._last, catalog),
            "ms": round((time.perf_counter() - started) * 1000, 1),
            "stage_ms": {**report.stage_ms, "publish": round((time.perf_counter() - publish_started) * 1000, 3)},
            "models": report.models,
            "providers": report.providers,
            "denied": report.denied,
            "excluded": report.excluded,
            "errors": len(report.errors),
            "warnings": len(report.warnings),
            "issues": [_issue(i) for i in ordered(report)[:ISSUES_IN_EVENT]],
            "content_hash": catalog.content_hash,
        }
        fields.update(_holds(self.upstreams, self._released))
        self._released = []
        self._last = catalog
        served: PublishResult | contract.Header | None = result
        if served is None and not self.served:  # a restart whose content was already published
            served = contract.read_header(self.state / contract.CATALOG_FILE)
        if served is not None:
            self.served = {
                "epoch": served.epoch,
                "content_hash": served.content_hash,
                "built_at": iso(served.built_at),
            }
        fields["epoch"] = self.served.get("epoch")
        if served is not None:
            fields["history"] = self.history.record_or_report(catalog, epoch=served.epoch, at=served.built_at)
        self._report = report
        self._write_status(False)
        return ("catalog_published" if result is not None else "catalog_unchanged"), fields, rejections

    def upstream_layers(self, config: Config, patch_layers: list[Layer] | None = None) -> list[Layer]:
        """The configured upstreams that have data, lowest precedence first; the packaged catalog if none has.
        A follower's builds start from its leader's catalog instead (the packaged one until it has one). Held
        prices a patch or another upstream confirms are released first (`release_holds`)."""
        if self.base is not None:
            return [self.base.layer() or self._packaged]
        found = {name: self.upstreams[name].layer(config) for name in config.upstreams}
        stacked = inputs.stack(found, config.upstreams)
        released = release_holds(self.upstreams, found, [*stacked, *(patch_layers or ())])
        if released:
            self._released += released
            found = {name: self.upstreams[name].layer(config) for name in config.upstreams}
            stacked = inputs.stack(found, config.upstreams)
        return stacked or [self._packaged]

    @functools.cached_property
    def _packaged(self) -> Layer:
        return prepare(packaged.load())

    def write_status(self, *, stopped: bool = False) -> None:
        """The status file: what the last build served and refused, how upstream is doing, whether running.

        Safe from any thread: the service writes it after a failed poll while a rebuild may run."""
        with self._lock:
            self._write_status(stopped)

    def _write_status(self, stopped: bool) -> None:
        status.write(self.state, _status(self, stopped))

    def stop(self) -> None:
        """The daemon is stopping: say so in the status file, and close the history."""
        self.write_status(stopped=True)
        self.history.close()

    def status_line(self) -> str:
        """For systemd's STATUS=."""
        return f"epoch {self.served.get('epoch', '-')}, {len(self.patches.rejected)} rejected file(s)"


def _status(r: Rebuilder, stopped: bool) -> contract.Status:
    """What `r` serves, refused and reports, and whether it runs."""
    now = iso(time.time())
    served, fleet, report = r.served, r.fleet, r._report
    return contract.Status(
        state="stopped" if stopped else "running",
        pid=os.getpid(),
        host=socket.gethostname(),
        started_at=r.started_at,
        updated_at=now,
        stopped_at=now if stopped else None,
        epoch=served.get("epoch"),
        content_hash=served.get("content_hash"),
        built_at=served.get("built_at"),
        trigger=r._trigger,
        sources=list(report.sources),
        upstream={name: r.upstreams[name].status for name in r.config.upstreams},
        rejected_files=[rejected for _, rejected in sorted(r.patches.rejected.items())],
        history=r.history.status,
        publish=fleet.publish_status() if fleet is not None else None,
        follow=fleet.follow_status(served.get("content_hash")) if fleet is not None else None,
        build_issue_count=len(report.issues),
        build_issues=list(report.issues[:ISSUES_IN_STATUS]),
    )


def _to_publish(
    config: Config,
    config_file: str | None,
    base: Base | None,
    upstream: Callable[[], list[Layer]],
    patch_layers: list[Layer],
    cache: ModelCache,
) -> BuiltCatalog:
    """What to publish: the base's catalog as it is when nothing of this host's applies on top of it (a
    follower with no patch files, overrides, rules or profiles of its own serves its leader's file), else the
    build of the upstream layers (or the base's) and everything above, with the profiles compiled in."""
    local = patch_layers or config.overrides or config.overrides_module or config.allow is not None or config.deny
    adopted = base.catalog() if base is not None and not local and not config.profiles else None
    if adopted is not None:
        return adopted
    return inputs.catalog(config, config_file, upstream=upstream(), patch_layers=patch_layers, cache=cache)


def _holds(upstreams: dict[str, UpstreamState], released: list[str]) -> dict[str, list[str]]:
    """A `catalog_*` event's `held` (every price held back now) and `released` (since the last event)."""
    held = [f"{name}: {h}" for name, state in upstreams.items() for h in state.held]
    return {k: v for k, v in (("held", held), ("released", released)) if v}


def _issue(issue: BuildIssue) -> dict[str, Any]:
    """A build issue as a dict without its empty fields."""
    return {k: v for k, v in msgspec.to_builtins(issue).items() if v is not None}


def _release_memory() -> None:
    """After a build and its publish: collect, then hand freed heap back to the OS (glibc keeps it otherwise)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
