"""`models()` and `select()`: a catalog's questions over bitsets and columns, and `ModelList`, the answer whose
records are decoded when read. Answers are remembered per mapping (`Answers`)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple, overload

from llmdb import _calendar, _query
from llmdb._freshness import SnapshotHandle
from llmdb._names import scope_of
from llmdb._snapshot import Snapshot
from llmdb.errors import InvalidQuery, SnapshotError
from llmdb.schema import Model

if TYPE_CHECKING:
    from llmdb._catalog import Catalog

QUERY_CACHE = 256
"""`models()` answers kept per mapping (each a `ModelList`: ordinals, decoded when read)."""


def models(
    catalog: Catalog,
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
    min_intelligence: float | None = None,
    min_coding: float | None = None,
    min_agentic: float | None = None,
    same_as: str | None = None,
    include_deprecated: bool = False,
    order_by: str | None = None,
    at: str | datetime.date | None = None,
) -> ModelList:
    """Allowed models matching every condition (`mode`: any of these, e.g. `embedding`; `min_intelligence=`,
    `min_coding=`, `min_agentic=`: a benchmark index at least this, `Model.benchmarks`; `same_as=`: the model
    that name stands for on every host, `Model.identity`; `at=`: lifecycle as of that day, not today); ordered by
    spec unless `order_by` is cost, context, release_date (newest first) or intelligence, coding, agentic (highest
    first, unmeasured last). Filters run on precomputed bitsets and columns: only results are decoded."""
    limits = Limits(min_context, min_output, max_input_cost, max_output_cost, min_intelligence, min_coding, min_agentic)
    check_limits(**limits._asdict())
    snap = catalog.handle.current()
    needs = _query.requirements(require, forbid)
    providers = scope_of(snap, provider)
    same = None
    if same_as is not None:
        model = catalog.resolver.model(snap, same_as, exact_first=True)
        same = model.identity or model.spec
    query = Query(
        None if providers is None else tuple(providers),
        tuple(needs),
        frozen(input),
        frozen(output),
        frozen(mode),
        limits,
        include_deprecated,
        order_by,
        _calendar.day_of(at),
        same,
    )
    return catalog.answers.answer(snap, query)


def hosts(
    catalog: Catalog,
    name: str,
    *,
    include_deprecated: bool = False,
    order_by: str | None = "cost",
    at: str | datetime.date | None = None,
) -> ModelList:
    """Every allowed model that is the one `name` stands for, on every provider that offers it (its maker's
    snapshots too), cheapest first: `models(same_as=name)`. A model without an identity is its own only host."""
    return models(catalog, same_as=name, include_deprecated=include_deprecated, order_by=order_by, at=at)


def select(
    catalog: Catalog,
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
    min_intelligence: float | None = None,
    min_coding: float | None = None,
    min_agentic: float | None = None,
    include_deprecated: bool = False,
    at: str | datetime.date | None = None,
) -> _query.Selection:
    """The first allowed model meeting the requirements from: the `prefer` providers in order, then the
    family of `like`, then any model (in `scope`). Newest first within a step unless `order_by` says
    (`order_by="cost"` with `min_coding=60`: the cheapest model good enough). `input=` ... `include_deprecated=`
    filter as in `models()`, at every step.

    Raises `NoMatch` carrying the trace of every step."""
    limits = Limits(
        min_context, min_output, max_input_cost, max_output_cost, min_intelligence, min_coding, min_agentic
    )._asdict()
    check_limits(**limits)
    needs = _query.requirements(require, forbid)
    day = _calendar.day_of(at)

    def choose(snap: Snapshot) -> _query.Selection:
        like_model = catalog.resolver.model(snap, like, exact_first=True) if like is not None else None
        return _query.select(
            snap,
            needs,
            prefer=scope_of(snap, list(prefer)) or [],
            like=like_model,
            scope=scope_of(snap, scope),
            order_by=order_by,
            filters=_query.filter_bits(snap, input=input, output=output, mode=mode, **limits),
            include_deprecated=include_deprecated,
            day=day,
        )

    return catalog.handle.attempt(choose)[1]


def frozen(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """A query argument as part of a cache key."""
    return None if value is None else (value,) if isinstance(value, str) else tuple(value)


def check_limits(**limits: float | None) -> None:
    """`InvalidQuery` for a negative or non-numeric `min_context=`, `max_input_cost=`, ...: no model can meet it."""
    for name, value in limits.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0):
            raise InvalidQuery(f"{name}={value!r}: expected a number >= 0")


class Limits(NamedTuple):
    """The numeric filters of `models()` and `select()` (`_query.LIMITS`' names, in its order)."""

    min_context: int | None = None
    min_output: int | None = None
    max_input_cost: float | None = None
    max_output_cost: float | None = None
    min_intelligence: float | None = None
    min_coding: float | None = None
    min_agentic: float | None = None


class Query(NamedTuple):
    """One `models()` question, hashable: the key its answer is remembered under."""

    providers: tuple[str, ...] | None
    needs: tuple[tuple[str, bool], ...]
    input: tuple[str, ...] | None
    output: tuple[str, ...] | None
    mode: tuple[str, ...] | None
    limits: Limits
    include_deprecated: bool
    order_by: str | None
    day: str
    """Today (`_calendar`): deprecated and retired as of this day; an answer holds for its day."""
    same_as: str | None = None
    """An identity (`Model.identity`), or the spec of a model without one: its hosts only."""


def found(snap: Snapshot, q: Query) -> tuple[int, ...] | int:
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
        day=q.day,
    )
    if q.same_as is not None:
        bits &= _query.same_bits(snap, q.same_as)
    if q.order_by is None and all(limit is None for limit in q.limits):
        return bits
    return tuple(_query.ordinals(snap, bits, order_by=q.order_by, **q.limits._asdict()))


class Answers:
    """`models()` answers of one catalog, by question, each with the mapping it came from; a corrupt record found
    while one is read sends the question to the mapping served before."""

    def __init__(self, handle: SnapshotHandle) -> None:
        self._handle = handle
        self._queries: dict[Query, tuple[Snapshot, ModelList]] = {}

    def clear(self) -> None:
        self._queries = {}

    def answer(self, snap: Snapshot, query: Query) -> ModelList:
        queries = self._queries
        known = queries.get(query)
        if known is not None and known[0] is snap:
            return known[1]
        snap, ordinals = self._handle.attempt(lambda snap: found(snap, query))
        answer = ModelList(snap, ordinals, lambda bad, exc: self._again(bad, exc, query), query.day)
        if len(queries) >= QUERY_CACHE:
            queries.clear()
        queries[query] = (snap, answer)
        return answer

    def _again(self, bad: Snapshot, exc: SnapshotError, query: Query) -> ModelList:
        """`query` answered from the mapping served before `bad`, whose record failed (`exc` if there is none)."""
        if not self._handle.reject(bad, exc):
            raise exc
        return self.answer(self._handle.current(), query)


class ModelList(Sequence[Model]):
    """`models()`' answer: a read-only sequence whose records are decoded when first read, so asking costs the
    filter, not decoding every result.

    It answers from one mapping. Should a record of it turn out corrupt when read, the catalog goes back to the
    file served before (as `get` does) and the list answers the same question from there on (an iteration under
    way goes on from the same position in that answer)."""

    __slots__ = ("_again", "_day", "_state")

    def __init__(
        self,
        snap: Snapshot,
        found: tuple[int, ...] | int,
        again: Callable[[Snapshot, SnapshotError], ModelList],
        day: str,
    ) -> None:
        self._state = (snap, found)
        """The mapping and the ordinals, or the bitset they are the set bits of (made into ordinals when first
        read); one attribute, replaced whole, so a thread never pairs one mapping with another's ordinals."""
        self._again = again
        self._day = day
        """The day the question was asked: its models read as of it (`_calendar`)."""

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
            return _calendar.as_of(snap.model_at(ordinal), self._day)
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
