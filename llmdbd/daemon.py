"""`llmdbd run`: build and publish at start, then rebuild on patch-file drops, config changes, SIGHUP and new
upstream data, until SIGTERM or SIGINT.

A patch file that stops being valid keeps its last accepted version in effect (kept in the state directory);
an upstream body that fails the checks is refused and the last good one kept. Nothing bad replaces good data.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import random
import signal
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import anyio
import anyio.abc
import msgspec
import structlog
import watchfiles

from llmdbd import notify, status, upstream
from llmdbd.build import BaseCache, BuildError, build
from llmdbd.config import Config, ConfigError, load
from llmdbd.layer import Layer
from llmdbd.normalize import normalize
from llmdbd.publish import publish
from llmdbd.sources import modelsdev, overrides, packaged, patches
from llmdbd.validate import validate

ACCEPTED = "accepted"
log = structlog.get_logger("llmdbd")


class Daemon:
    """Owns one state directory: the published catalog, the accepted patches and the upstream cache."""

    def __init__(self, config: Config, config_path: Path) -> None:
        self.config = config
        self.config_path = config_path
        self.state = Path(config.state_dir)
        self.accepted: dict[str, bytes] = {}
        self.rejected: dict[str, list[str]] = {}
        self.upstream_body: bytes | None = None
        self.upstream_meta: upstream.Cached | None = None
        self.upstream_status: dict[str, Any] = {}
        self.published: dict[str, Any] = {}
        self._upstream_cache: tuple[tuple[Any, ...], Layer] | None = None
        self._base_cache = BaseCache()
        self._pending: set[str] = set()
        self._wake = anyio.Event()
        self._watch_scope: anyio.CancelScope | None = None
        self._fingerprint: list[tuple[str, int, int]] = [("", 0, 0)]
        self._last_build: tuple[Any, Any, str] = ((), (), "")

    # -- start-up ------------------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Create the state directory and load what earlier runs left: accepted patches, the upstream cache."""
        (self.state / ACCEPTED).mkdir(parents=True, exist_ok=True)
        for path in (self.state / ACCEPTED).iterdir():
            with contextlib.suppress(OSError):
                self.accepted[unquote(path.name)] = path.read_bytes()
        cached = upstream.read_cache(self.state)
        if cached is not None:
            self.upstream_body, self.upstream_meta = cached
            self.upstream_status = {"source": "cache", "url": cached[1].url, "etag": cached[1].etag}

    # -- building ------------------------------------------------------------------------------------------

    def rebuild(self, trigger: str) -> dict[str, Any]:
        """Build from the current inputs and publish; the fields of the `catalog_*` log event."""
        # A build allocates hundreds of thousands of acyclic objects; collecting during it only costs time.
        gc.disable()
        try:
            return self._rebuild(trigger)
        finally:
            gc.enable()
            _release_memory()

    def _rebuild(self, trigger: str) -> dict[str, Any]:
        started = time.perf_counter()
        config = self.config
        layers = [self._upstream_layer(), *self._patch_layers()]
        if config.overrides is not None:
            layers.append(patches.from_doc(config.overrides, name="config", kind="config", file=str(self.config_path)))
        if config.overrides_module:
            layers.append(overrides.load_module(config.overrides_module))
        load_ms = round((time.perf_counter() - started) * 1000, 3)
        try:
            catalog = build(layers, config.rules(), stage_ms={"load": load_ms}, cache=self._base_cache)
        except BuildError as exc:
            log.error("build_failed", trigger=trigger, error=str(exc))
            return {"event": "build_failed"}
        publish_started = time.perf_counter()
        result = publish(catalog, self.state, keep=config.keep)
        stage_ms = {**catalog.report.stage_ms, "publish": round((time.perf_counter() - publish_started) * 1000, 3)}
        fields: dict[str, Any] = {
            "trigger": trigger,
            "ms": round((time.perf_counter() - started) * 1000, 1),
            "stage_ms": stage_ms,
            "models": catalog.report.models,
            "providers": catalog.report.providers,
            "denied": catalog.report.denied,
            "errors": len(catalog.report.errors),
            "warnings": len(catalog.report.warnings),
            "content_hash": catalog.content_hash,
        }
        if result is not None:
            self.published = {"epoch": result.epoch, "content_hash": result.content_hash, "built_at": result.built_at}
        fields["epoch"] = self.published.get("epoch")
        fields["event"] = "catalog_published" if result is not None else "catalog_unchanged"
        self._last_build = (catalog.report.sources, catalog.report.issues, trigger)
        self.write_status()
        return fields

    def _upstream_layer(self) -> Layer:
        """The upstream layer, normalized and validated once per distinct input and reused by later builds."""
        meta = self.upstream_meta
        if self.upstream_body is not None and meta is not None:
            key: tuple[Any, ...] = ("http", meta.sha256)
        elif self.config.upstream.file:
            st = os.stat(self.config.upstream.file)
            key = ("file", self.config.upstream.file, st.st_mtime_ns, st.st_size)
        else:
            key = ("packaged",)
        if self._upstream_cache is not None and self._upstream_cache[0] == key:
            return self._upstream_cache[1]
        if key[0] == "http" and meta is not None and self.upstream_body is not None:
            version = f"etag:{meta.etag}" if meta.etag else f"sha256:{meta.sha256}"
            layer = modelsdev.load_bytes(self.upstream_body, file=meta.url, version=version)
        elif key[0] == "file":
            layer = modelsdev.load_path(key[1])
        else:
            layer = packaged.load()
        normalize([layer])
        validate([layer])
        self._upstream_cache = (key, layer)
        return layer

    def _patch_layers(self) -> list[Layer]:
        self._fingerprint = self.fingerprint()
        files, layers = patches.list_files(self.config.patch_dirs)
        live = {str(p) for p in files}
        for path in files:
            key = str(path)
            try:
                data = path.read_bytes()
            except OSError as exc:  # vanished or unreadable between listing and reading
                errors = [f"cannot read {key}: {exc.strerror or exc}"]
            else:
                layer = patches.load_data(data, path)
                normalize([layer])
                validate([layer])
                errors = [str(i) for i in layer.issues if i.severity == "error"]
            if not errors:
                self.rejected.pop(key, None)
                if self.accepted.get(key) != data:
                    self._accept(key, data)
                layers.append(layer)
                continue
            if self.rejected.get(key) != errors:
                log.warning(
                    "patch_rejected", file=key, errors=errors, kept="last accepted" if key in self.accepted else None
                )
            self.rejected[key] = errors
            previous = self.accepted.get(key)
            if previous is not None:
                kept = patches.load_data(previous, path)
                kept.info = msgspec.structs.replace(kept.info, name=f"{kept.info.name} (last accepted)")
                layers.append(kept)
        for key in [k for k in self.accepted if k not in live]:
            self._forget(key)
        for key in [k for k in self.rejected if k not in live]:
            del self.rejected[key]
        return layers

    def _accept(self, key: str, data: bytes) -> None:
        self.accepted[key] = data
        target = self.state / ACCEPTED / quote(key, safe="")
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)

    def _forget(self, key: str) -> None:
        del self.accepted[key]
        with contextlib.suppress(OSError):
            (self.state / ACCEPTED / quote(key, safe="")).unlink()

    def write_status(self) -> None:
        """The status file: what the last build served and refused, and how upstream is doing."""
        sources, issues, trigger = self._last_build
        status.write(
            self.state,
            {
                **self.published,
                "pid": os.getpid(),
                "updated_at": time.time(),
                "trigger": trigger,
                "sources": msgspec.to_builtins(sources),
                "upstream": self.upstream_status,
                "rejected_files": [{"file": f, "errors": e} for f, e in sorted(self.rejected.items())],
                "build_issues": [str(i) for i in issues if i.severity == "error"][:100],
            },
        )

    # -- the event loop ------------------------------------------------------------------------------------

    def request(self, trigger: str) -> None:
        """Ask for a rebuild; requests made while one runs coalesce into the next."""
        self._pending.add(trigger)
        self._wake.set()

    async def run(self) -> None:
        self.prepare()
        async with anyio.create_task_group() as tg:
            await tg.start(self._signals, tg.cancel_scope)  # SIGTERM during the first build stops cleanly too
            await self._rebuild_now("start")
            notify.notify("READY=1\nSTATUS=" + self._status_line())
            tg.start_soon(self._rebuilder)
            tg.start_soon(self._watcher)
            if self.config.upstream.poll_interval > 0:
                tg.start_soon(self._poller)
            interval = notify.watchdog_interval()
            if interval:
                tg.start_soon(self._watchdog, interval)
        notify.notify("STOPPING=1")
        log.info("stopped")

    async def _rebuild_now(self, trigger: str) -> None:
        fields = await anyio.to_thread.run_sync(self.rebuild, trigger)
        event = fields.pop("event")
        if event != "build_failed":
            log.info(event, **fields)
            notify.notify("STATUS=" + self._status_line())

    def _status_line(self) -> str:
        epoch = self.published.get("epoch", "-")
        return f"epoch {epoch}, {len(self.rejected)} rejected file(s)"

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
                    notify.notify(f"RELOADING=1\nMONOTONIC_USEC={time.monotonic_ns() // 1000}")
                    self.reload("sighup")
                    notify.notify("READY=1")
                else:
                    log.info("stopping", signal=signal.Signals(signum).name)
                    scope.cancel()
                    return

    def reload(self, trigger: str) -> None:
        """Re-read the config file; a bad one is refused and the running config stays."""
        try:
            config, _ = load(self.config_path if self.config_path.exists() else None)
        except ConfigError as exc:
            log.error("config_rejected", error=str(exc))
            return
        if config.state_dir != self.config.state_dir:
            log.error("config_rejected", error="state_dir cannot change while running; restart the daemon")
            return
        watched = self._watch_paths()
        self.config = config
        if self._watch_paths() != watched and self._watch_scope is not None:
            self._watch_scope.cancel()
        self.request(trigger)

    def _watch_paths(self) -> dict[Path, str]:
        """Path to react to → what it is; watched through its nearest existing directory."""
        paths = {Path(d).absolute(): "patches" for d in self.config.patch_dirs}
        paths[self.config_path.absolute()] = "config"
        if self.config.overrides_module:
            paths[Path(self.config.overrides_module).absolute()] = "overrides"
        return paths

    async def _watcher(self) -> None:
        while True:
            paths = self._watch_paths()
            roots = sorted({d for p, kind in paths.items() if (d := _watch_dir(p, kind)) is not None})
            if not roots:
                log.warning("nothing_to_watch", paths=[str(p) for p in paths])
                await anyio.sleep(5)
                continue
            debounce = max(self.config.debounce_ms, 1)
            with anyio.CancelScope() as scope:
                self._watch_scope = scope
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self._catch_up)
                    await self._watch(roots, paths, debounce)

    async def _catch_up(self) -> None:
        """Changes made between the last scan and the watch taking effect would go unseen: compare once."""
        await anyio.sleep(0.25)
        seen = self._fingerprint
        now = await anyio.to_thread.run_sync(self.fingerprint)
        if now[0] != seen[0]:
            self.reload("config_changed")
        elif now != seen:
            self.request("patches_changed")

    def fingerprint(self) -> list[tuple[str, int, int]]:
        """(path, mtime, size) of the config file, then the overrides module and every patch file."""
        files = [self.config_path]
        if self.config.overrides_module:
            files.append(Path(self.config.overrides_module))
        files += patches.list_files(self.config.patch_dirs)[0]
        out = []
        for path in files:
            try:
                st = path.stat()
            except OSError:
                out.append((str(path), -1, -1))
                continue
            out.append((str(path), st.st_mtime_ns, st.st_size))
        return out

    async def _watch(self, roots: list[Path], paths: dict[Path, str], debounce: int) -> None:
        async for changes in watchfiles.awatch(
            *roots, debounce=debounce, step=min(50, debounce), recursive=False, watch_filter=None
        ):
            kinds = {kind for _, changed in changes if (kind := _classify(Path(changed), paths))}
            if "config" in kinds:
                self.reload("config_changed")
            elif kinds:
                self.request("+".join(sorted(kinds)) + "_changed")
            if {d for p, k in paths.items() if (d := _watch_dir(p, k)) is not None} != set(roots):
                return  # a patch directory appeared or vanished: watch the right directory

    async def _poller(self) -> None:
        failures = 0
        while True:
            settings = self.config.upstream
            try:
                got = await upstream.fetch(settings, self.upstream_meta)
                if got is None:
                    self.upstream_status.update(last_success=time.time(), last_result="not modified")
                else:
                    body, meta = got
                    previous = self.upstream_meta.models if self.upstream_meta else 0
                    layer = await anyio.to_thread.run_sync(
                        upstream.accept, body, previous, settings.max_shrink, settings.url
                    )
                    meta.models = sum(1 for f in layer.fragments if f.model is not None)
                    await anyio.to_thread.run_sync(upstream.write_cache, self.state, body, meta)
                    self.upstream_body, self.upstream_meta = body, meta
                    self.upstream_status = {
                        "source": "http",
                        "url": meta.url,
                        "etag": meta.etag,
                        "last_success": time.time(),
                        "last_result": f"new body, {meta.models} models",
                    }
                    log.info("upstream_fetched", url=meta.url, etag=meta.etag, models=meta.models, bytes=len(body))
                    self.request("upstream_changed")
                failures = 0
                delay = settings.poll_interval
            except upstream.FetchError as exc:
                failures += 1
                self.upstream_status.update(last_failure=time.time(), error=str(exc))
                delay = min(settings.backoff_max, settings.poll_interval, 2.0 ** min(failures, 16))
                delay *= random.uniform(0.5, 1.0)
                log.warning("upstream_rejected", error=str(exc), retry_in=round(delay, 1), failures=failures)
                self.write_status()
            await anyio.sleep(delay)

    async def _watchdog(self, interval: float) -> None:
        while True:
            notify.notify("WATCHDOG=1")
            await anyio.sleep(interval)


def _release_memory() -> None:
    """After a build (and its publish): collect, then hand freed heap back to the OS (glibc keeps it otherwise),
    so an idle daemon holds about 65 MiB instead of 100."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _watch_dir(path: Path, kind: str) -> Path | None:
    """The directory to watch (non-recursively) for `path`: a patch directory itself, else the parent that will
    see it appear; None when neither exists (never a watch on a far ancestor such as /etc)."""
    if kind == "patches" and path.is_dir():
        return path
    return path.parent if path.parent.is_dir() else None


def _classify(changed: Path, paths: dict[Path, str]) -> str | None:
    for path, kind in paths.items():
        if kind == "patches":
            if changed.parent == path and changed.suffix in patches.SUFFIXES and not changed.name.startswith("."):
                return kind
            if changed == path:
                return kind  # the directory itself appeared or vanished
        elif changed == path:
            return kind
    return None


def main(config_path: str | None, state_dir: str | None) -> int:
    """Load the configuration (refusing a bad one), then run until stopped."""
    from llmdbd.logging import configure

    env = dict(os.environ)
    if state_dir is not None:
        env["LLMDBD_STATE_DIR"] = state_dir
    try:
        config, path = load(config_path, env)
    except ConfigError as exc:
        configure("auto")
        log.error("config_rejected", error=str(exc))
        return 2
    configure(config.log_format)
    log.info("starting", config=str(path), state_dir=config.state_dir, patch_dirs=config.patch_dirs)
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(Daemon(config, path).run)
    return 0
