"""The service loop of `llmdbd run`: build and publish at start, then rebuild on patch-file drops, config
changes, SIGHUP and new upstream data, until SIGTERM or SIGINT.

The loop only schedules; what a rebuild does is `Rebuilder`'s, what is watched is `watch`'s, and what upstream
holds is `UpstreamState`'s, each usable without an event loop.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import structlog
import watchfiles

from llmdbd import fetch
from llmdbd.config import Config, config_file, load
from llmdbd.daemon import sdnotify, upstream, watch
from llmdbd.daemon.backoff import backoff
from llmdbd.daemon.fleet import Fleet
from llmdbd.daemon.rebuild import Rebuilder
from llmdbd.errors import ConfigError, FetchError

log = structlog.get_logger("llmdbd")


class Service:
    """Schedules rebuilds of one `Rebuilder`: requests made while one runs coalesce into the next."""

    def __init__(self, rebuilder: Rebuilder, fleet: Fleet, config_path: str | None, flags: dict[str, Any]) -> None:
        self.rebuilder = rebuilder
        self.fleet = fleet
        self.config_path = config_path
        self.flags = flags
        self.config_file = config_file(config_path, dict(os.environ))  # watched, whether or not it exists
        self._pending: set[str] = set()
        self._wake = anyio.Event()
        self._watch_scope: anyio.CancelScope | None = None
        self._fingerprint: watch.Fingerprint = []

    @property
    def config(self) -> Config:
        return self.rebuilder.config

    def request(self, trigger: str) -> None:
        """Ask for a rebuild."""
        self._pending.add(trigger)
        self._wake.set()

    async def run(self) -> None:
        async with anyio.create_task_group() as tg:
            await tg.start(self._signals, tg.cancel_scope)  # SIGTERM during the first build stops cleanly too
            await self._rebuild_now("start")
            self.fleet.start(tg, self.rebuilder, self.request)
            sdnotify.send("READY=1\nSTATUS=" + self.rebuilder.status_line())
            tg.start_soon(self._rebuilder)
            tg.start_soon(self._watcher)
            for name in self.rebuilder.upstreams:  # each idle while its poll_interval is 0 or it is not used
                tg.start_soon(self._poller, name)
            interval = sdnotify.watchdog_interval()
            if interval:
                tg.start_soon(sdnotify.watchdog, interval)
        sdnotify.send("STOPPING=1")
        await fetch.aclose()
        self.rebuilder.stop()
        log.info("stopped")

    async def _rebuild_now(self, trigger: str) -> None:
        self._fingerprint = watch.fingerprint(self.config, self.config_file)
        event, fields, rejections = await anyio.to_thread.run_sync(self.rebuilder.rebuild, trigger)
        for rejection in rejections:
            log.warning("patch_rejected", file=rejection.file, errors=rejection.errors, keeping=rejection.keeping)
        if event in ("build_failed", "publish_failed"):
            log.error(event, **fields)
        else:
            log.info(event, **fields)
        sdnotify.send("STATUS=" + self.rebuilder.status_line())
        self.fleet.published(self.rebuilder.served.get("epoch"))

    async def _rebuilder(self) -> None:
        while True:
            await self._wake.wait()
            self._wake = anyio.Event()
            triggers, self._pending = self._pending, set()
            await self._rebuild_now(",".join(sorted(triggers)))

    async def _signals(self, scope: anyio.CancelScope, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        with anyio.open_signal_receiver(signal.SIGHUP, signal.SIGTERM, signal.SIGINT) as signals:
            task_status.started()
            async for signum in signals:
                if signum == signal.SIGHUP:
                    sdnotify.send(f"RELOADING=1\nMONOTONIC_USEC={time.monotonic_ns() // 1000}")
                    self.reload("sighup")
                    sdnotify.send("READY=1")
                else:
                    log.info("stopping", signal=signal.Signals(signum).name)
                    scope.cancel()
                    return

    def reload(self, trigger: str) -> None:
        """Re-read the configuration with the same flags as at start; a bad one is refused, the running one stays."""
        try:
            config, file = load(self.config_path, flags=self.flags)
        except ConfigError as exc:
            log.error("config_rejected", error=str(exc), keeping="the running configuration")
            return
        if config.state_dir != self.config.state_dir:
            log.error(
                "config_rejected",
                error=f"state_dir cannot change while running ({self.config.state_dir} -> {config.state_dir});"
                " restart the daemon",
                keeping="the running configuration",
            )
            return
        before = watch.watched(self.config, self.config_file)
        self.rebuilder.reconfigure(config, file)
        if watch.watched(config, self.config_file) != before and self._watch_scope is not None:
            self._watch_scope.cancel()
        self.request(trigger)

    async def _watcher(self) -> None:
        while True:
            paths = watch.watched(self.config, self.config_file)
            roots = watch.roots(paths)
            if not roots:
                log.warning("nothing_to_watch", paths=[str(p) for p in paths])
                await anyio.sleep(5)
                continue
            debounce = max(self.config.debounce_ms, 1)
            with anyio.CancelScope() as scope:
                self._watch_scope = scope
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self._catch_up)
                    async for changes in _changes(roots, debounce):
                        kinds = {kind for _, changed in changes if (kind := watch.classify(Path(changed), paths))}
                        if "config" in kinds:
                            self.reload("config_changed")
                        elif kinds:
                            self.request("+".join(sorted(kinds)) + "_changed")
                        if watch.roots(paths) != roots:
                            break  # a patch directory appeared or vanished: watch the right directory

    async def _catch_up(self) -> None:
        """Changes made between the last scan and the watch taking effect would go unseen: compare once."""
        await anyio.sleep(0.25)
        seen = self._fingerprint
        now = await anyio.to_thread.run_sync(watch.fingerprint, self.config, self.config_file)
        if now[:1] != seen[:1]:
            self.reload("config_changed")
        elif now != seen:
            self.request("patches_changed")

    async def _poller(self, name: str) -> None:
        failures = 0
        state = self.rebuilder.upstreams[name]
        while True:
            settings = self.config.settings(name)
            if settings.poll_interval <= 0 or name not in self.config.upstreams:
                await anyio.sleep(1)
                continue
            try:
                meta = await upstream.poll(state, settings)
                if meta is not None:
                    log.info("upstream_fetched", upstream=name, url=meta.url, etag=meta.etag, models=meta.models)
                    self.request("upstream_changed")
                failures = 0
                delay = settings.poll_interval
            except FetchError as exc:
                failures += 1
                state.failed(str(exc))
                delay = backoff(failures, min(settings.backoff_max, settings.poll_interval))
                log.warning(
                    "upstream_rejected", upstream=name, error=str(exc), retry_in=round(delay, 1), failures=failures
                )
                self.rebuilder.write_status()
            await anyio.sleep(delay)


WATCH_STEP_MS = 20
"""A rebuild starts once file changes pause this long (an editor's save or a rename is one burst well within it);
`debounce_ms` caps how long a stream of changes is gathered."""


def _changes(roots: list[Path], debounce: int) -> AsyncGenerator[set[tuple[watchfiles.Change, str]], None]:
    """watchfiles as the service uses it: non-recursive, unfiltered (`watch.classify` decides), and a stop that
    waits at most 1 s for the watcher thread (watchfiles' default is 5 s)."""
    return watchfiles.awatch(
        *roots,
        debounce=debounce,
        step=min(WATCH_STEP_MS, debounce),
        recursive=False,
        watch_filter=None,
        rust_timeout=1000,
    )
