"""`Catalog`: the query API over whichever snapshot file is current, following new publishes lock-free."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, Unpack, overload

from llmdb import _names, _query, contract
from llmdb._compare import Comparison, compare_in
from llmdb._cost import CostBreakdown, compute
from llmdb._features import check_feature
from llmdb._freshness import SnapshotHandle
from llmdb._info import describe
from llmdb._names import Resolved
from llmdb._responses import requested
from llmdb._snapshot import Snapshot
from llmdb._spec import MAX_NAME, clip, did_you_mean, parse_spec, provider_id
from llmdb._usage import UsageCounts
from llmdb.errors import InvalidQuery, ModelNotFound, SnapshotError, UnknownProvider
from llmdb.schema import Capabilities, Model, Provenance, Provider

if TYPE_CHECKING:
    from datetime import date, datetime

    from llmdb._history import CatalogDiff, Change, LifecycleDates

_T = TypeVar("_T")
_QUERY_CACHE = 256
"""`models()` answers kept per mapping (each a `ModelList`: ordinals, decoded when read)."""
_NAME_CACHE = 4096
"""Resolved names kept per mapping (names that are not exact specs: LiteLLM keys, bare ids, other forms)."""

SYSTEM_PATH = contract.STATE_DIR / contract.CATALOG_FILE
"""Where the daemon publishes by default (its state directory)."""


def packaged_path() -> Path:
    """The snapshot shipped inside the wheel, built by `llmdbd build` from models.dev."""
    return Path(__file__).with_name("catalog.llmdb")  # a plain file in the package (no importlib.resources import)


def default_path() -> Path:
    """`$LLMDB_SNAPSHOT`, else the daemon's `catalog.llmdb` if present (in `$LLMDB_STATE_DIR`, default
    /var/lib/llmdb), else the packaged file."""
    env = os.environ.get(contract.SNAPSHOT_ENV)
    if env:
        return Path(env)
    state = os.environ.get(contract.STATE_DIR_ENV)
    daemon = Path(state) / contract.CATALOG_FILE if state else SYSTEM_PATH
    return daemon if daemon.exists() else packaged_path()


def _frozen(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """A query argument as part of a cache key."""
    return None if value is None else (value,) if isinstance(value, str) else tuple(value)


def _provider_id(snap: Snapshot, name: str) -> str:
    """The canonical id of provider `name` (an id or alias); `UnknownProvider` with close matches otherwise."""
    pid = provider_id(name, snap.provider_alias_map) if isinstance(name, str) else None
    if pid is None:
        shown = clip(name) if isinstance(name, str) else repr(name)
        hint = did_you_mean(name, snap.provider_alias_map) if isinstance(name, str) and len(name) <= MAX_NAME else ""
        raise UnknownProvider(f"unknown provider {shown}{hint}; `llmdb providers` lists them")
    return pid


def _limits(**limits: float | None) -> None:
    """`InvalidQuery` for a negative or non-numeric `min_context=`, `max_input_cost=`, ...: no model can meet it."""
    for name, value in limits.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0):
            raise InvalidQuery(f"{name}={value!r}: expected a number >= 0")


class _Query(NamedTuple):
    """One `models()` question, hashable: the key its answer is remembered under."""

    providers: tuple[str, ...] | None
    needs: tuple[tuple[str, bool], ...]
    input: tuple[str, ...] | None
    output: tuple[str, ...] | None
    mode: tuple[str, ...] | None
    min_context: int | None
    min_output: int | None
    max_input_cost: float | None
    max_output_cost: float | None
    include_deprecated: bool
    order_by: str | None


def _found(snap: Snapshot, q: _Query) -> tuple[int, ...] | int:
    """The ordinals answering `q` in `snap`, from bitsets and columns alone; just the bitset when no limit or
    order needs the ordinals (the answer's list makes them when first read)."""
    bits = _query.mask(
        snap,
        providers=q.providers,
        needs=q.needs,
        input=q.input,
        output=q.output,
        mode=q.mode,
        include_deprecated=q.include_deprecated,
    )
    limits = (q.min_context, q.min_output, q.max_input_cost, q.max_output_cost)
    if q.order_by is None and all(limit is None for limit in limits):
        return bits
    return tuple(
        _query.ordinals(
            snap,
            bits,
            min_context=q.min_context,
            min_output=q.min_output,
            max_input_cost=q.max_input_cost,
            max_output_cost=q.max_output_cost,
            order_by=q.order_by,
        )
    )


class ModelList(Sequence[Model]):
    """`models()`' answer: a read-only sequence whose records are decoded when first read, so asking costs the
    filter, not decoding every result.

    It answers from one mapping. Should a record of it turn out corrupt when read, the catalog goes back to the
    file served before (as `get` does) and the list answers the same question from there on (an iteration under
    way goes on from the same position in that answer)."""

    __slots__ = ("_again", "_state")

    def __init__(
        self, snap: Snapshot, found: tuple[int, ...] | int, again: Callable[[Snapshot, SnapshotError], ModelList]
    ) -> None:
        self._state = (snap, found)
        """The mapping and the ordinals, or the bitset they are the set bits of (made into ordinals when first
        read); one attribute, replaced whole, so a thread never pairs one mapping with another's ordinals."""
        self._again = again

    def _ordinals(self) -> tuple[Snapshot, tuple[int, ...]]:
        snap, found = self._state
        if isinstance(found, int):
            found = tuple(snap.iter_ordinals(found))
            self._state = (snap, found)
        return snap, found

    def __len__(self) -> int:
        found = self._state[1]
        return found.bit_count() if isinstance(found, int) else len(found)

    @overload
    def __getitem__(self, index: int) -> Model: ...
    @overload
    def __getitem__(self, index: slice) -> list[Model]: ...
    def __getitem__(self, index: int | slice) -> Model | list[Model]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        snap, ordinals = self._ordinals()
        ordinal = ordinals[index]
        try:
            return snap.model_at(ordinal)
        except SnapshotError as exc:
            self._state = self._again(snap, exc)._state  # the answer from the mapping served before, or raises
            return self[index]

    def __iter__(self) -> Iterator[Model]:
        i = 0
        while True:
            try:
                model = self[i]  # the answer in force now: a fallback may have shortened it
            except IndexError:
                return
            yield model
            i += 1

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ModelList):
            return self._ordinals() == other._ordinals() or list(self) == list(other)
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        snap, ordinals = self._ordinals()
        specs = [snap.spec_at(o) for o in ordinals[:3]]
        return f"<ModelList of {len(self)}: {', '.join(specs)}{', ...' if len(self) > 3 else ''}>"


class Models(dict[str, Model]):
    """Name → `Model` for the names already asked for in the current mapping; `get` is its C-level `__getitem__`
    (a repeated `get` is a dict hit), and a miss (`__missing__`) resolves, decodes and remembers the name."""

    __slots__ = ("lookup",)

    def __init__(self, lookup: Callable[[str], Model]) -> None:
        super().__init__()
        self.lookup = lookup

    def __missing__(self, name: str) -> Model:
        return self.lookup(name)


SUPPORTS_CACHE = 65_536
"""Distinct `supports` questions remembered per mapping (least recently used go first)."""


class Catalog:
    """Lookups over one snapshot path; a newly published file is served within `CHECK_SECONDS`
    (docs/snapshot-format.md: freshness)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, profile: str | None = None) -> None:
        """`path`: a snapshot file; None: `default_path()` when first used (the file is opened on first use).
        `profile`: answer as that profile of the file does (default `$LLMDB_PROFILE`, else the base catalog);
        `UnknownProfile` at first use, naming the file's profiles, when it has none of that name."""
        self.profile = profile if profile is not None else (os.environ.get(contract.PROFILE_ENV) or None)
        self._handle = SnapshotHandle(Path(path) if path is not None else default_path, profile=self.profile)
        self._bare: tuple[Snapshot, dict[str, list[str]]] | None = None
        self._folded: tuple[Snapshot, dict[str, list[str]]] | None = None
        self._names: tuple[Snapshot | None, dict[tuple[str, tuple[str, ...] | None], Resolved]] = (None, {})
        self._lock = threading.RLock()
        self._served: Snapshot | None = None
        """The mapping `_models` holds answers from (swapped under `_lock`)."""
        self._models = Models(self._lookup)
        self._queries: dict[_Query, tuple[Snapshot, ModelList]] = {}
        """`models()` answers by query, each with the mapping it came from."""
        self.get = self._models.__getitem__  # type: ignore[method-assign,assignment]
        self.supports = functools.lru_cache(maxsize=SUPPORTS_CACHE)(self._supports)  # type: ignore[method-assign]
        self._handle.add_listener(self._swapped)

    def _swapped(self, snap: Snapshot) -> None:
        """A new mapping: forget every answer from the old one.

        `_served` is None while the caches are cleared and names the new mapping only after: `_supports` checks
        it after computing, so an answer it computed from any old state is computed again, never cached."""
        with self._lock:
            self._served = None
            self._models.clear()
            self._queries = {}
            self.supports.cache_clear()  # type: ignore[attr-defined]
            self._served = snap

    def _lookup(self, name: str) -> Model:
        """A name not looked up since the mapping changed: resolve and decode it, and remember it for `get`."""
        with self._lock:
            snap, model = self._on_a_good_mapping(lambda snap: self._decoded(snap, name))
            if snap is self._served and len(self._models) < snap.model_count + _NAME_CACHE:
                self._models[name] = model
            return model

    def _decoded(self, snap: Snapshot, name: str) -> Model:
        model = snap.model(name)
        return model if model is not None else self._model(snap, self._resolve(snap, name, None).spec)

    def _on_a_good_mapping(self, work: Callable[[Snapshot], _T]) -> tuple[Snapshot, _T]:
        """`work(current mapping)`; when a record of a new mapping turns out corrupt, the handle goes back to the
        mapping served before (`SnapshotHandle.reject`) and the work is done there."""
        while True:
            snap = self._handle.current()
            try:
                return snap, work(snap)
            except SnapshotError as exc:
                if not self._handle.reject(snap, exc):
                    raise

    def refresh(self) -> None:
        """Serve a newly published file now, rather than within `CHECK_SECONDS` (after writing one yourself)."""
        self._handle.check(force=True)

    @property
    def snapshot(self) -> Snapshot:
        """The current mapping (for tools that need the raw file: epoch, content hash, sections)."""
        return self._handle.current()

    # -- lookups -------------------------------------------------------------------------------------------

    def get(self, spec: str) -> Model:
        """The model a name stands for: a spec (`provider:model`, `model@provider`, `provider/model`), a
        model alias, a LiteLLM key or prefix (`vertex_ai/gemini-2.5-pro`), or a bare id (`gpt-4o`; docs/names.md).

        Raises `ModelNotFound` (a `KeyError`) with close matches, `AmbiguousModel`, `UnknownProvider` or
        `InvalidSpec`. (Each catalog replaces this method by its `Models`' `__getitem__`: same behaviour.)"""
        return self._models[spec]

    def find(self, spec: str) -> Model | None:
        """Like `get`, but None when there is no such model (bad specs still raise)."""
        try:
            return self.get(spec)
        except ModelNotFound:
            return None

    def resolve(self, spec: str | tuple[str, str], *, scope: str | Sequence[str] | None = None) -> Model:
        """Like `get`, also accepting a (provider, model id) tuple, and a bare id limited to `scope`."""
        snap = self._handle.current()
        if isinstance(spec, tuple):
            spec = f"{_provider_id(snap, spec[0])}:{spec[1]}"
        return self._model(snap, self._resolve(snap, spec, self._scope(snap, scope)).spec)

    def resolve_name(self, name: str, *, scope: str | Sequence[str] | None = None) -> Resolved:
        """(spec, rule) for a name: which model it stands for and which rule found it (`llmdb resolve`)."""
        snap = self._handle.current()
        return self._resolve(snap, name, self._scope(snap, scope))

    def _resolve(self, snap: Snapshot, name: str, scope: list[str] | None) -> Resolved:
        cached = self._names
        if cached[0] is not snap:
            cached = self._names = (snap, {})
        key = (name, tuple(scope) if scope is not None else None)
        found = cached[1].get(key)
        if found is None:
            found = _names.resolve(snap, name, self._bare_ids(snap), scope, lambda: self._folded_names(snap))
            if len(cached[1]) < _NAME_CACHE:
                cached[1][key] = found
        return found

    @staticmethod
    def _model(snap: Snapshot, spec: str) -> Model:
        model = snap.model(spec)
        if model is None:  # a names table pointing nowhere: the file is inconsistent
            raise ModelNotFound(f"no model {spec!r}")
        return model

    def _bare_ids(self, snap: Snapshot) -> dict[str, list[str]]:
        """Model id → specs having it, built once per mapping (only for bare-id resolution)."""
        bare = self._bare
        if bare is None or bare[0] is not snap:
            index: dict[str, list[str]] = {}
            for spec in snap.specs:
                index.setdefault(spec.split(":", 1)[1], []).append(spec)
            bare = self._bare = (snap, index)
        return bare[1]

    def _folded_names(self, snap: Snapshot) -> dict[str, list[str]]:
        """`_names.folded_names`, built once per mapping, on the first name that misses every rule."""
        folded = self._folded
        if folded is None or folded[0] is not snap:
            folded = self._folded = (snap, _names.folded_names(snap, self._bare_ids(snap)))
        return folded[1]

    @staticmethod
    def _scope(snap: Snapshot, scope: str | Sequence[str] | None) -> list[str] | None:
        """Canonical ids of the providers named; `UnknownProvider` with close matches for one it lacks."""
        if scope is None:
            return None
        return [_provider_id(snap, name) for name in ([scope] if isinstance(scope, str) else scope)]

    def parse_spec(self, text: str) -> tuple[str, str]:
        """(canonical provider id, model id) from any accepted spec form; see `llmdb.parse_spec`."""
        return parse_spec(text, self._handle.current().provider_alias_map)

    # -- queries -------------------------------------------------------------------------------------------

    def models(
        self,
        provider: str | None = None,
        *,
        require: _query.Requirements = None,
        forbid: _query.Requirements = None,
        input: str | Iterable[str] | None = None,
        output: str | Iterable[str] | None = None,
        mode: str | Iterable[str] | None = None,
        min_context: int | None = None,
        min_output: int | None = None,
        max_input_cost: float | None = None,
        max_output_cost: float | None = None,
        include_deprecated: bool = False,
        order_by: str | None = None,
    ) -> ModelList:
        """Allowed models matching every condition (`mode`: any of these, e.g. `embedding`); ordered by spec
        unless `order_by` is cost, context or release_date (newest first). Filters run on precomputed bitsets
        and columns: only results are decoded."""
        _limits(
            min_context=min_context,
            min_output=min_output,
            max_input_cost=max_input_cost,
            max_output_cost=max_output_cost,
        )
        snap = self._handle.current()
        needs = _query.requirements(require, forbid)
        providers = self._scope(snap, provider)
        query = _Query(
            None if providers is None else tuple(providers),
            tuple(needs),
            _frozen(input),
            _frozen(output),
            _frozen(mode),
            min_context,
            min_output,
            max_input_cost,
            max_output_cost,
            include_deprecated,
            order_by,
        )
        return self._answer(snap, query)

    def _answer(self, snap: Snapshot, query: _Query) -> ModelList:
        queries = self._queries
        answer = queries.get(query)
        if answer is not None and answer[0] is snap:
            return answer[1]
        snap, found = self._on_a_good_mapping(lambda snap: _found(snap, query))
        models = ModelList(snap, found, lambda bad, exc: self._again(bad, exc, query))
        if len(queries) >= _QUERY_CACHE:
            queries.clear()
        queries[query] = (snap, models)
        return models

    def _again(self, bad: Snapshot, exc: SnapshotError, query: _Query) -> ModelList:
        """`query` answered from the mapping served before `bad`, whose record failed (`exc` if there is none)."""
        if not self._handle.reject(bad, exc):
            raise exc
        return self._answer(self._handle.current(), query)

    def select(
        self,
        *,
        require: _query.Requirements = None,
        forbid: _query.Requirements = None,
        prefer: Sequence[str] = (),
        like: str | None = None,
        scope: str | Sequence[str] | None = None,
        order_by: str | None = None,
        input: str | Iterable[str] | None = None,
        output: str | Iterable[str] | None = None,
        mode: str | Iterable[str] | None = None,
        min_context: int | None = None,
        min_output: int | None = None,
        max_input_cost: float | None = None,
        max_output_cost: float | None = None,
        include_deprecated: bool = False,
    ) -> _query.Selection:
        """The first allowed model meeting the requirements from: the `prefer` providers in order, then the
        family of `like`, then any model (in `scope`). Newest first within a step unless `order_by` says.
        `input=` ... `include_deprecated=` filter as in `models()`, at every step.

        Raises `NoMatch` carrying the trace of every step."""
        limits = {
            "min_context": min_context,
            "min_output": min_output,
            "max_input_cost": max_input_cost,
            "max_output_cost": max_output_cost,
        }
        _limits(**limits)
        needs = _query.requirements(require, forbid)

        def choose(snap: Snapshot) -> _query.Selection:
            like_model = self._decoded(snap, like) if like is not None else None
            preferred = self._scope(snap, list(prefer)) or []
            return _query.select(
                snap,
                needs,
                prefer=preferred,
                like=like_model,
                scope=self._scope(snap, scope),
                order_by=order_by,
                filters=_query.filter_bits(snap, input=input, output=output, mode=mode, **limits),
                include_deprecated=include_deprecated,
            )

        return self._on_a_good_mapping(choose)[1]

    def providers(self) -> list[Provider]:
        """Every provider, by id."""
        return list(self._handle.current().providers)

    def provider(self, id: str) -> Provider:
        """One provider by canonical id or any alias; `UnknownProvider` with suggestions otherwise."""
        snap = self._handle.current()
        found = snap.provider(_provider_id(snap, id))
        if found is None:
            raise UnknownProvider(f"unknown provider {clip(id)}")
        return found

    def capabilities(self, spec: str) -> Capabilities:
        return self.get(spec).capabilities

    def supports(self, spec: str, *features: str) -> bool:
        """True when the model has every feature (`tools`, `json_schema`, ..., an `input:image` modality, or a
        LiteLLM word: `vision`, `function_calling`, `response_schema`, `prompt_caching`, ...).

        Each instance replaces this with a C-level `functools.lru_cache` of `_supports`, cleared when the mapping
        changes, so a repeated question is one cache hit."""
        return self._supports(spec, *features)

    def _supports(self, spec: str, *features: str) -> bool:
        """The answer from one mapping: computed again if the mapping changed meanwhile, so the cache never keeps
        an answer from a mapping it was cleared of. (The check is the last thing before `return`, and CPython
        switches threads at no instruction between them and the cache's C-level store.)"""
        while True:
            snap = self._served
            key = self._models[spec].spec  # resolves the name (and opens the file on first use)
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
        model = self.get(spec)
        return self._handle.current().denied_reason(model.spec) is None

    def explain(self, spec: str) -> dict[str, Provenance]:
        """Field path → where its value came from; a denied model also gets an `allowed` entry naming the rule."""
        model = self.get(spec)
        snap = self._handle.current()
        out = dict(snap.provenance(model.spec))
        reason = snap.denied_reason(model.spec)
        if reason is not None:
            out["allowed"] = Provenance(source=f"rule: {reason}")
        return out

    def cost(
        self,
        spec: str,
        usage: Any = None,
        *,
        service_tier: str | None = None,
        api: str | None = None,
        at: str | date | datetime | float | None = None,
        **counts: Unpack[UsageCounts],
    ) -> CostBreakdown:
        """USD for one request, from a response's usage (`usage=`: any SDK's response or usage, a dict, a
        `Usage`) or from counts: `input_tokens`, `output_tokens`, `cache_read_tokens`, `cache_write_tokens`,
        `reasoning_tokens`, ... (any count of `Usage`), and per-unit `images`, `audio_seconds`, `characters`,
        `requests`, `web_searches` (these may come beside `usage=`).

        Counts follow OpenAI's convention: `input_tokens` is every prompt token, cached ones included
        (`cache_read_tokens` and `cache_write_tokens` are parts of it); `output_tokens` is every generated token,
        reasoning included (`reasoning_tokens` is a part of it, priced apart only where the model has a reasoning
        price). The context tier is chosen by `input_tokens`; `service_tier` ("batch", "flex", "priority", or
        "standard" to override what a response reports) prices at that tier or raises `PriceUnknown`. Raises
        `PriceUnknown` for a part the catalog has no price for, `InvalidUsage` for counts that do not add up.
        `at` (ISO text, date, datetime or unix time) prices with the model as the history had it then:
        `PriceUnknown` saying why when it had no such model then. docs/cost.md has the rules and a worked
        example per provider."""
        wanted = requested(usage, api, counts)
        if at is None:
            return compute(self.get(spec), wanted, service_tier)
        from llmdb import _history

        return compute(_history.model_then(self, spec, at), wanted, service_tier)

    # -- history ----------------------------------------------------------------------------------

    @property
    def history_path(self) -> Path:
        """The history database beside the snapshot being served (`history.sqlite3`)."""
        return self._handle.current().path.parent / contract.HISTORY_FILE

    @property
    def last_error(self) -> SnapshotError | None:
        """Why the newest file published at the path was refused (None when the one served is the newest)."""
        return self._handle.last_error

    def history(self, spec: str, field: str | None = None) -> list[Change]:
        """The timeline of a model, oldest first: introduced, each field change (old, new, source), removed.

        `spec`: any name `get` accepts, or the exact spec of a model no longer in the catalog. `field`: a path or
        glob (`cost.input`, `cost.*`) to follow only those fields. `HistoryError` when there is no history;
        `ModelNotFound` when neither the catalog nor the history knows the model."""
        from llmdb import _history

        return _history.of_model(self, spec, field)

    def lifecycle(self, spec: str) -> LifecycleDates:
        """A model's lifecycle: the provider's deprecation and retirement dates from the catalog, and from the
        history when the catalog first had it (`introduced`), last changed it, and dropped it (`removed`).
        `spec` as for `history`."""
        from llmdb import _history

        return _history.lifecycle_of(self, spec)

    def compare(self, *specs: str, differences: bool = False) -> Comparison:
        """Models side by side: limits, prices, capabilities, modalities, lifecycle (with the history's
        `introduced`/`removed` when there is a history), one value per model, and which fields differ
        (`differences`: only those fields)."""
        return compare_in(self, specs, differences)

    def changes(
        self, since: str | date | datetime | float, *, provider: str | None = None, field: str | None = None
    ) -> list[Change]:
        """What changed across the catalog since a time (ISO text, date, datetime or unix time), oldest first;
        `provider` and `field` (a path or glob) narrow it."""
        from llmdb import _history

        return _history.changes_of(self, since, provider, field)

    def diff(self, old: str | os.PathLike[str] | int, new: str | os.PathLike[str] | int | None = None) -> CatalogDiff:
        """Models added, removed and changed (field by field) from `old` to `new`: snapshot files, or epochs
        the daemon still retains (`HistoryError` naming the ones it does when not). `new` defaults to the
        catalog being served. Both are read as this catalog's profile, or both as the base catalog when one of
        them does not have it (`CatalogDiff.profile` says which)."""
        from llmdb import _history

        return _history.diff_of(self, old, new)

    def info(self) -> dict[str, Any]:
        """What is being served: file, epoch, content hash, build time (ISO 8601 UTC), sources, counts (models,
        providers, denied, excluded), and the daemon's status when the file is a daemon's."""
        return describe(self)

    def close(self) -> None:
        self._handle.close()
