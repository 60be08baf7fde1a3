"""`Catalog`: the query API over whichever snapshot file is current, following new publishes lock-free.

A thin class that knows names: it holds the handle on the file (`_freshness`), the name → model cache, the name
resolver (`_names`) and the query answers (`_models`), and forwards every other question in a line to the
module that answers it (`_models`, `_cost`, `_history`, `_compare`, `_info`).
"""

from __future__ import annotations

import datetime
import functools
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from llmdb import _calendar, _compare, _cost, _history, _info, _models, contract
from llmdb._features import check_feature
from llmdb._freshness import SnapshotHandle
from llmdb._names import Resolved, Resolver, provider_of, scope_of
from llmdb._snapshot import Snapshot
from llmdb._spec import clip, parse_spec
from llmdb.contract import paths
from llmdb.errors import ModelNotFound, SnapshotError, UnknownProvider
from llmdb.schema import Capabilities, Model, Provenance, Provider

if TYPE_CHECKING:
    from pathlib import Path

SYSTEM_PATH = os.path.join(paths.STATE_DIR, paths.CATALOG_FILE)
"""Where the daemon publishes by default (its state directory)."""
SUPPORTS_CACHE = 65_536
"""Distinct `supports` questions remembered per mapping (least recently used go first)."""
OTHER_NAMES = 4096
"""Names other than specs (LiteLLM keys, bare ids, other forms) the name cache keeps per mapping, beside specs."""


def packaged_path() -> Path:
    """The snapshot shipped inside the wheel, built by `llmdbd build` from models.dev."""
    from pathlib import Path

    return Path(_packaged())


def default_path() -> Path:
    """`$LLMDB_SNAPSHOT`, else the daemon's `catalog.llmdb` if present (in `$LLMDB_STATE_DIR`, default
    /var/lib/llmdb), else the packaged file."""
    from pathlib import Path

    return Path(_default())


def _packaged() -> str:
    # a plain file in the package (no importlib.resources import)
    return os.path.join(os.path.dirname(__file__), "catalog.llmdb")


def _default() -> str:
    """`default_path`, as a string (what a catalog opens: no pathlib on the way to a first lookup)."""
    env = os.environ.get(paths.SNAPSHOT_ENV)
    if env:
        return env
    state = os.environ.get(paths.STATE_DIR_ENV)
    daemon = os.path.join(state, paths.CATALOG_FILE) if state else SYSTEM_PATH
    return daemon if os.path.exists(daemon) else _packaged()


class Supports(Protocol):
    """`supports`' signature, for the cache that answers it (`Catalog.supported`, `llmdb.supports`)."""

    def __call__(self, spec: str, /, *features: str) -> bool: ...


class ByName(dict[str, Model]):
    """Name → `Model` for the names already asked for in the current mapping: a repeated `get` is a dict hit (at
    C speed through `__getitem__`), and a miss (`__missing__`) resolves, decodes and remembers the name."""

    __slots__ = ("lookup",)

    def __init__(self, lookup: Callable[[str], Model]) -> None:
        super().__init__()
        self.lookup = lookup

    def __missing__(self, name: str) -> Model:
        return self.lookup(name)


class Catalog:
    """Lookups over one snapshot path; a newly published file is served within `CHECK_SECONDS`
    (docs/snapshot-format.md: freshness)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, profile: str | None = None) -> None:
        """`path`: a snapshot file; None: `default_path()` when first used (the file is opened on first use).
        `profile`: answer as that profile of the file does (default `$LLMDB_PROFILE`, else the base catalog);
        `UnknownProfile` at first use, naming the file's profiles, when it has none of that name."""
        self.profile = profile if profile is not None else (os.environ.get(paths.PROFILE_ENV) or None)
        self.handle = SnapshotHandle(path if path is not None else _default, profile=self.profile)
        """The file followed: its current mapping, and the one to fall back to (`_freshness`)."""
        self.resolver = Resolver()
        """Names that are not exact specs → specs, by the rules (`_names`)."""
        self.answers = _models.Answers(self.handle)
        """The answers to queries, remembered per mapping."""
        self.by_name = ByName(self._lookup)
        """The name → model cache: `by_name[name]` is `get(name)` without a method call (`llmdb.get` is its
        `__getitem__`)."""
        self._remembered = functools.lru_cache(maxsize=SUPPORTS_CACHE)(self._supported)
        self.supported: Supports = self._remembered
        """`supports` with its answers remembered (`llmdb.supports` is this): a repeated question is one hit."""
        self._lock = threading.RLock()
        self._served: Snapshot | None = None
        """The mapping `by_name` and `supported` hold answers from (swapped under `_lock`)."""
        self.handle.add_listener(self._swapped)

    def _swapped(self, snap: Snapshot) -> None:
        """A new mapping: forget every answer from the old one.

        `_served` is None while the caches are cleared and names the new mapping only after: `_supported` checks
        it after computing, so an answer it computed from any old state is computed again, never cached."""
        with self._lock:
            self._served = None
            self.by_name.clear()
            self.answers.clear()
            self.resolver.clear()
            self._remembered.cache_clear()
            self._served = snap

    def _lookup(self, name: str) -> Model:
        """A name not looked up since the mapping changed: resolve and decode it, and remember it for `get`. A
        record found corrupt sends the handle back to the mapping served before, and the name is looked up there
        (`SnapshotHandle.attempt`, spelled out: a first get goes through each module once, tests/test_layout.py)."""
        handle = self.handle
        with self._lock:
            while True:
                snap = handle.current()
                try:
                    model = snap.model(name)
                    if model is None:
                        model = self.resolver.model(snap, name)
                    model = _calendar.as_of(model)
                    break
                except SnapshotError as exc:
                    if not handle.reject(snap, exc):
                        raise
            if snap is self._served and len(self.by_name) < snap.model_count + OTHER_NAMES:
                self.by_name[name] = model
            return model

    def refresh(self) -> None:
        """Serve a newly published file now, rather than within `CHECK_SECONDS` (after writing one yourself)."""
        self.handle.check(force=True)

    @property
    def snapshot(self) -> Snapshot:
        """The current mapping (for tools that need the raw file: epoch, content hash, sections)."""
        return self.handle.current()

    @property
    def last_error(self) -> SnapshotError | None:
        """Why the newest file published at the path was refused (None when the one served is the newest)."""
        return self.handle.last_error

    @property
    def history_path(self) -> Path:
        """The history database beside the snapshot being served (`history.sqlite3`)."""
        return self.handle.current().path.with_name(contract.HISTORY_FILE)

    # -- names ---------------------------------------------------------------------------------------------

    def get(self, spec: str) -> Model:
        """The model a name stands for: a spec (`provider:model`, `model@provider`, `provider/model`), a
        model alias, a LiteLLM key or prefix (`vertex_ai/gemini-2.5-pro`), or a bare id (`gpt-4o`; docs/names.md).

        Raises `ModelNotFound` (a `KeyError`) with close matches, `AmbiguousModel`, `UnknownProvider` or
        `InvalidSpec`."""
        return self.by_name[spec]

    def find(self, spec: str) -> Model | None:
        """Like `get`, but None when there is no such model (bad specs still raise)."""
        try:
            return self.by_name[spec]
        except ModelNotFound:
            return None

    def resolve(
        self,
        spec: str | tuple[str, str],
        *,
        scope: str | Sequence[str] | None = None,
        at: str | datetime.date | None = None,
    ) -> Model:
        """Like `get`, also accepting a (provider, model id) tuple, a bare id limited to `scope`, and `at=` a day
        (`2026-01-01`): the model's status as of that day, not today."""
        snap = self.handle.current()
        if isinstance(spec, tuple):
            spec = f"{provider_of(snap, spec[0])}:{spec[1]}"
        day = _calendar.day_of(at) if at is not None else None
        return _calendar.as_of(self.resolver.model(snap, spec, scope_of(snap, scope)), day)

    def resolve_name(self, name: str, *, scope: str | Sequence[str] | None = None) -> Resolved:
        """(spec, rule) for a name: which model it stands for and which rule found it (`llmdb resolve`)."""
        snap = self.handle.current()
        return self.resolver.resolve(snap, name, scope_of(snap, scope))

    def parse_spec(self, text: str) -> tuple[str, str]:
        """(canonical provider id, model id) from any accepted spec form; see `llmdb.parse_spec`."""
        return parse_spec(text, self.handle.current().provider_alias_map)

    # -- questions -----------------------------------------------------------------------------------------

    # Each of these is its module's function of the catalog: a method, named as it is here.
    # Each of these is its module's function of the catalog: a method, named as it is here.
    models = _models.models
    select = _models.select
    hosts = _models.hosts
    cost = _cost.cost
    compare = _compare.compare
    info = _info.info
    history = _history.history
    lifecycle = _history.lifecycle
    changes = _history.changes
    diff = _history.diff

    def providers(self) -> list[Provider]:
        """Every provider, by id."""
        return list(self.handle.current().providers)

    def provider(self, id: str) -> Provider:
        """One provider by canonical id or any alias; `UnknownProvider` with suggestions otherwise."""
        snap = self.handle.current()
        found = snap.provider(provider_of(snap, id))
        if found is None:
            raise UnknownProvider(f"unknown provider {clip(id)}")
        return found

    def capabilities(self, spec: str) -> Capabilities:
        return self.by_name[spec].capabilities

    def supports(self, spec: str, *features: str) -> bool:
        """True when the model has every feature (`tools`, `json_schema`, ..., an `input:image` modality, or a
        LiteLLM word: `vision`, `function_calling`, `response_schema`, `prompt_caching`, ...)."""
        return self.supported(spec, *features)

    def _supported(self, spec: str, *features: str) -> bool:
        """The answer from one mapping: computed again if the mapping changed meanwhile, so the cache never keeps
        an answer from a mapping it was cleared of. (The check is the last thing before `return`, and with the
        GIL, which `import llmdb` requires, no other thread runs between it and the cache's C-level store.)"""
        while True:
            snap = self._served
            key = self.by_name[spec].spec  # resolves the name (and opens the file on first use)
            if snap is None or self._served is not snap:
                continue  # not opened yet, or a swap under way
            ordinal = snap.ordinal(key)
            answer = ordinal is not None and all(
                snap.bits(check_feature(feature, modalities=True)) >> ordinal & 1 for feature in features
            )
            if self._served is snap:
                return answer

    def allowed(self, spec: str) -> bool:
        """False for a model in the catalog that the allow/deny rules deny (`explain` says which rule)."""
        model = self.by_name[spec]
        return self.handle.current().denied_reason(model.spec) is None

    def explain(self, spec: str) -> dict[str, Provenance]:
        """Field path → where its value came from; a denied model also gets an `allowed` entry naming the rule."""
        model = self.by_name[spec]
        snap = self.handle.current()
        out = dict(snap.provenance(model.spec))
        reason = snap.denied_reason(model.spec)
        if reason is not None:
            out["allowed"] = Provenance(source=f"rule: {reason}")
        return out

    def close(self) -> None:
        self.handle.close()
