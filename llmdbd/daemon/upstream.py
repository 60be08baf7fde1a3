"""Upstream: fetching an upstream catalog (models.dev, LiteLLM) over HTTP, the cache of its last good body in
the state directory, and `UpstreamState`, which holds the layer builds start from.

Conditional requests (a 304 costs nothing), a size limit enforced while streaming, TLS verification, plain
http refused except to loopback, and a body accepted only if it still looks like the catalog it replaces.
A body is parsed and prepared once, when it is accepted; builds reuse that layer.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import anyio
import httpx
import msgspec
from msgspec import Struct

from llmdb.contract import HeldPrice, UpstreamStatus, iso
from llmdbd.config import Config, Upstream
from llmdbd.engine import Layer, holds, prepare
from llmdbd.errors import FetchError
from llmdbd.fetch import check_url, conditional_get
from llmdbd.output.files import atomic_write
from llmdbd.sources.upstreams import UPSTREAMS, table_of

CACHE_DIR = "upstream"
"""In the state directory: each upstream's last good body and its metadata (`UpstreamKind.cache_body`)."""


class Cached(Struct, kw_only=True):
    """What is known of the last good body."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: float = 0.0
    sha256: str = ""
    models: int = 0
    held: list[HeldPrice] = []
    """The body's prices held back (`engine.holds`): kept with it, so a restart holds them too."""


def read_cache(state_dir: str | os.PathLike[str], name: str) -> tuple[bytes, Cached] | None:
    """Upstream `name`'s last good body and what is known of it, None when there is none or it is torn."""
    directory, kind = Path(state_dir) / CACHE_DIR, UPSTREAMS[name]
    try:
        body = (directory / kind.cache_body).read_bytes()
        meta = msgspec.json.decode((directory / kind.cache_meta).read_bytes(), type=Cached)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    if hashlib.sha256(body).hexdigest() != meta.sha256:
        return None  # a torn cache: never trust it
    return body, meta


def write_cache(state_dir: str | os.PathLike[str], name: str, body: bytes, meta: Cached) -> None:
    """Body first, then its metadata (with the body's hash), each atomically."""
    directory, kind = Path(state_dir) / CACHE_DIR, UPSTREAMS[name]
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write(directory / kind.cache_body, body)
    atomic_write(directory / kind.cache_meta, msgspec.json.encode(meta))


def accept(
    name: str,
    body: bytes,
    previous_models: int,
    max_shrink: float,
    url: str,
    version: str | None = None,
) -> Layer:
    """The body as a prepared layer if it is a usable catalog; `FetchError` naming the reason otherwise."""
    layer = UPSTREAMS[name].load_bytes(body, file=url, version=version)
    total = entries(layer) + sum(1 for i in layer.issues if i.model)
    if total == 0:
        reason = next((i.message for i in layer.issues if i.severity == "error"), "no models")
        raise FetchError(f"{url}: rejected body: {reason}")
    prepare(layer)
    models = entries(layer)
    if models < total / 2:
        raise FetchError(f"{url}: rejected body: only {models} of {total} models are valid (schema drift?)")
    if previous_models and models < previous_models * (1 - max_shrink):
        raise FetchError(
            f"{url}: rejected body: {models} models, down from {previous_models} (more than {max_shrink:.0%} fewer)"
        )
    return layer


def entries(layer: Layer) -> int:
    """The models a body defines, or a price source's entries (its rules): what the shrink check counts."""
    return sum(1 for f in layer.fragments if f.model is not None) + len(layer.rules)


async def fetch(
    settings: Upstream, cached: Cached | None, table: str = 'upstreams."models.dev"'
) -> tuple[bytes, Cached] | None:
    """The new body and its metadata, or None when upstream says it has not changed (304). `table`: where the
    settings are in the config (`upstreams.litellm`), for messages."""
    check_url(settings.url, settings.allow_http, f"{table}.allow_http")
    same = cached is not None and cached.url == settings.url
    got = await conditional_get(
        settings.url,
        max_bytes=settings.max_bytes,
        timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
        etag=cached.etag if same and cached is not None else None,
        last_modified=cached.last_modified if same and cached is not None else None,
        accept="application/json",
    )
    if got is None:
        return None
    meta = Cached(
        url=settings.url,
        etag=got.etag,
        last_modified=got.last_modified,
        fetched_at=time.time(),
        sha256=hashlib.sha256(got.body).hexdigest(),
    )
    return got.body, meta


async def poll(state: UpstreamState, settings: Upstream) -> Cached | None:
    """One poll: the metadata of a new accepted body (now cached and in use), None when upstream has not
    changed; `FetchError` when the fetch fails or the body is refused (the last good one stays)."""
    got = await fetch(settings, state.meta, table_of(state.name))
    if got is None:
        state.not_modified()
        return None
    body, meta = got
    layer = await anyio.to_thread.run_sync(
        accept, state.name, body, state.models(), settings.max_shrink, meta.url, version_of(meta)
    )
    await anyio.to_thread.run_sync(state.accepted, body, meta, layer)
    return meta


def release_holds(
    states: Mapping[str, UpstreamState], found: Mapping[str, Layer | None], others: Sequence[Layer]
) -> list[str]:
    """Release each held price (`engine.holds`) of the upstreams in `found` that one of `others` (the stacked
    upstream layers, the patch layers) gives the new value of, or that another upstream holds at the same new
    value (both moved the same way); a line per release, for the `catalog_*` event."""
    active = {name: states[name] for name, layer in found.items() if layer is not None and states[name].held}
    moved = {(name, h.model, h.field, h.after) for name, state in active.items() for h in state.held}
    decided = {}
    for name, state in active.items():  # every reason first: a release must not hide a twin's hold
        reasons = holds.released(state.held, name, others)
        for other, model, field, after in sorted(moved):
            if other != name and any((h.model, h.field, h.after) == (model, field, after) for h in state.held):
                reasons.setdefault((model, field), f"{other} gives {after!r} too")
        decided[name] = reasons
    return [
        f"{name}: {h.model} {h.field} {h.after!r}: {reasons[h.model, h.field]}"
        for name, reasons in decided.items()
        for h in active[name].release(reasons)
    ]


def version_of(meta: Cached) -> str:
    """The version stamp of a fetched body: its ETag, else its sha256."""
    return f"etag:{meta.etag}" if meta.etag else f"sha256:{meta.sha256}"


class UpstreamState:
    """One upstream's data: the last good fetched body (kept in the state directory's cache), else the
    configured `file`, else none; prepared once and reused until it changes."""

    def __init__(self, state_dir: str | os.PathLike[str], name: str) -> None:
        self.state_dir = Path(state_dir)
        self.name = name
        self.meta: Cached | None = None
        self.status = UpstreamStatus(source="none")
        self._key: tuple[object, ...] | None = None
        self._layer: Layer | None = None
        self._served: Layer | None = None
        """`_layer` with its held prices back at their last values: what builds get."""
        self._body: bytes | None = None
        self._lock = threading.Lock()

    def load_cache(self) -> None:
        """Take the body an earlier run fetched, if the cache is whole."""
        cached = read_cache(self.state_dir, self.name)
        if cached is not None:
            self._body, self.meta = cached
            self.status = UpstreamStatus(source="cache", url=self.meta.url, etag=self.meta.etag, held=self.meta.held)

    @property
    def held(self) -> list[HeldPrice]:
        """The prices of the body in use held back (none for a configured file: only updates jump)."""
        return self.meta.held if self.meta is not None else []

    def layer(self, config: Config) -> Layer | None:
        """The prepared layer for `config` as served (held prices at their last values), reused while its input
        and holds are unchanged; None with no data."""
        with self._lock:  # `accepted` may run in the poller's thread meanwhile
            layer = self._layer_for(config)
            if layer is not None and self._served is None:
                self._served = holds.apply(layer, self.held)
            return self._served if layer is not None else None

    def _layer_for(self, config: Config) -> Layer | None:
        file = config.settings(self.name).file
        if self.meta is not None:
            key: tuple[object, ...] = self._http_key(self.meta)
        elif file:
            try:
                st = os.stat(file)
                key = ("file", file, st.st_mtime_ns, st.st_size, *self._day())
            except OSError:
                key = ("file", file)  # the load reports the missing file in the build
        else:
            return None
        if self._layer is None or key != self._key:
            kind = UPSTREAMS[self.name]
            if self.meta is not None and self._body is not None:
                layer = kind.load_bytes(self._body, file=self.meta.url, version=version_of(self.meta))
            else:
                layer = kind.load_path(file)
            self._key, self._layer, self._served = key, prepare(layer), None
            self._keep_body()
        return self._layer

    def _current(self) -> Layer | None:
        """The body in use, parsed (the cached one before any build has asked for it); None without one."""
        if self._layer is None and self.meta is not None and self._body is not None:
            kind = UPSTREAMS[self.name]
            layer = kind.load_bytes(self._body, file=self.meta.url, version=version_of(self.meta))
            self._key, self._layer = self._http_key(self.meta), prepare(layer)
            self._keep_body()
        return self._layer

    def _day(self) -> tuple[object, ...]:
        """For a source of dated prices, today (UTC): its layer is read again when the day changes."""
        return (datetime.datetime.now(datetime.UTC).date(),) if UPSTREAMS[self.name].dates is not None else ()

    def _http_key(self, meta: Cached) -> tuple[object, ...]:
        return ("http", meta.sha256, *self._day())

    def _keep_body(self) -> None:
        """Parsed: the layer is all a build needs, unless dated prices are read again another day."""
        if UPSTREAMS[self.name].dates is None:
            self._body = None

    def models(self) -> int:
        """Models in the last good body (0 before any): the base the shrink check compares against."""
        return self.meta.models if self.meta is not None else 0

    def accepted(self, body: bytes, meta: Cached, layer: Layer) -> None:
        """A fetched body passed `accept`: hold back its prices that jumped from those served, cache it, and use
        its (already prepared) layer from now on."""
        meta.models = entries(layer)
        with self._lock:  # one step: a release in the rebuild thread sees the old body and holds, or the new
            meta.held = holds.jumps(self._current(), layer, self.held, iso(time.time()) or "")
            write_cache(self.state_dir, self.name, body, meta)
            self.meta, self._key, self._layer, self._served = meta, self._http_key(meta), layer, None
            self._body = body
            self._keep_body()
        held = f", {len(meta.held)} price(s) held back" if meta.held else ""
        self.status = UpstreamStatus(
            source="http",
            url=meta.url,
            etag=meta.etag,
            last_success=iso(time.time()),
            last_result=f"new body, {meta.models} models{held}",
            held=meta.held,
        )

    def release(self, reasons: dict[tuple[str, str], str]) -> list[HeldPrice]:
        """Stop holding the prices `reasons` names (a patch or another upstream confirmed the new value); the
        holds released. The cache's metadata forgets them, so the confirming patch can go."""
        with self._lock:
            if self.meta is None:
                return []
            gone = [h for h in self.meta.held if (h.model, h.field) in reasons]
            if gone:  # on disk first: a failed write leaves memory and file as they were
                kept = msgspec.structs.replace(self.meta, held=[h for h in self.meta.held if h not in gone])
                (self.state_dir / CACHE_DIR).mkdir(parents=True, exist_ok=True)
                atomic_write(self.state_dir / CACHE_DIR / UPSTREAMS[self.name].cache_meta, msgspec.json.encode(kept))
                self.meta, self._served = kept, None
                self.status.held = kept.held
            return gone

    def not_modified(self) -> None:
        self.status.last_success, self.status.last_result = iso(time.time()), "not modified"

    def failed(self, error: str) -> None:
        self.status.last_failure, self.status.error = iso(time.time()), error
