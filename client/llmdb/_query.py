"""Filtering and selection over a snapshot's bitsets and columns, decoding only the models returned."""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping, Sequence

from msgspec import Struct

from llmdb import _calendar
from llmdb._features import check_feature
from llmdb._snapshot import Snapshot
from llmdb._spec import clip, did_you_mean
from llmdb.errors import InvalidQuery, NoMatch
from llmdb.schema import MODALITIES, MODES, Model

ORDERS = ("spec", "cost", "context", "release_date", "intelligence", "coding", "agentic")
BENCHMARKS = ("intelligence", "coding", "agentic")
"""`Benchmarks` indices: columns, `min_<name>=` filters and orders (highest first, unmeasured last)."""
Requirements = Mapping[str, bool] | Iterable[str] | None
"""`{"tools": True, "reasoning": False}`, or just the names that must hold (`["tools", "json_schema"]`)."""


class TraceStep(Struct, frozen=True, kw_only=True):
    """One fallback step of `select`: what it considered and why candidates were rejected."""

    step: str
    candidates: int
    matched: int
    rejected_by: dict[str, int] = {}
    """Requirement → how many candidates it rejected (each candidate counted once, for its first failure)."""
    rejected: tuple[tuple[str, str], ...] = ()
    """Up to `REJECTED_SHOWN` (spec, failed requirement) examples."""
    chosen: str | None = None


class Selection(Struct, frozen=True, kw_only=True):
    model: Model
    trace: tuple[TraceStep, ...]


REJECTED_SHOWN = 20


def requirements(require: Requirements, forbid: Requirements) -> list[tuple[str, bool]]:
    """Normalize `require`/`forbid` into (feature, wanted) pairs; unknown names raise `InvalidQuery`."""
    out: list[tuple[str, bool]] = []
    for given, wanted in ((require, True), (forbid, False)):
        if given is None:
            continue
        items = given.items() if isinstance(given, Mapping) else ((k, True) for k in _names(given))
        for key, value in items:
            out.append((check_feature(key), bool(value) == wanted))
    return out


def _names(given: Iterable[str]) -> Iterable[str]:
    if isinstance(given, str):
        return [k.strip() for k in given.split(",") if k.strip()]
    return given


def mask(
    snap: Snapshot,
    *,
    providers: Sequence[str] | None = None,
    needs: Sequence[tuple[str, bool]] = (),
    input: str | Iterable[str] | None = None,
    output: str | Iterable[str] | None = None,
    mode: str | Iterable[str] | None = None,
    include_deprecated: bool = False,
    include_denied: bool = False,
    day: str | None = None,
    include_retired: bool = True,
) -> int:
    """The bitset of models passing every boolean condition (`mode`: any of the modes named); deprecated and
    retired models are those the file marks and those whose date is reached on `day` (`_calendar`)."""
    bits = snap.all_bits if include_denied else snap.bits("allowed")
    deprecated_on, retired_on = dated_bits(snap, day) if day is not None else (0, 0)
    if not include_deprecated:
        bits &= ~(snap.bits("deprecated") | snap.bits("status:retired") | deprecated_on | retired_on)
    if not include_retired:
        bits &= ~(snap.bits("status:retired") | retired_on)
    if providers is not None:
        bits &= provider_bits(snap, providers)
    for key, wanted in needs:
        bits = bits & feature_bits(snap, key) if wanted else bits & ~feature_bits(snap, key)
    for direction, modalities in (("input", input), ("output", output)):
        for name in _words(modalities):
            bits &= feature_bits(snap, f"{direction}:{name}")
    if mode is not None:
        bits &= mode_bits(snap, _words(mode))
    return bits


_DATED: list[tuple[weakref.ref[Snapshot], str, tuple[int, int]]] = []
"""The last `dated_bits` answer: (the mapping, held weakly, day, answer)."""


def dated_bits(snap: Snapshot, day: str) -> tuple[int, int]:
    """(models whose deprecation date is reached on `day`, models whose retirement date is): from the file's
    lifecycle dates (`Index.dates`), once per mapping and day."""
    last = _DATED[0] if _DATED else None  # one read: another thread may replace the entry meanwhile
    if last is not None and last[0]() is snap and last[1] == day:
        return last[2]
    found = []
    for column in ("deprecation_date", "retirement_date"):
        bits = bytearray((snap.model_count + 7) // 8)
        for i, date in snap.columns.dated(column):
            if date <= day:
                bits[i >> 3] |= 1 << (i & 7)
        found.append(int.from_bytes(bits, "little"))
    answer = (found[0], found[1])
    _DATED[:] = [(weakref.ref(snap), day, answer)]
    return answer


def _words(value: str | Iterable[str] | None) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def feature_bits(snap: Snapshot, key: str) -> int:
    """The bitset of a feature or an `input:<m>` / `output:<m>` modality; `InvalidQuery` for a modality that no
    model has and that is no modality word (`input:smell`): a query that can only answer nothing."""
    found = snap.bits(key)
    direction, sep, name = key.partition(":")
    if not found and sep and name not in MODALITIES:
        hint = did_you_mean(name, MODALITIES)
        raise InvalidQuery(f"unknown {direction} modality {clip(name)}{hint}; valid: {', '.join(MODALITIES)}")
    return found


LIMITS = (
    ("min_context", "context", "context >="),
    ("min_output", "output", "output >="),
    ("max_input_cost", "input_cost", "input cost <="),
    ("max_output_cost", "output_cost", "output cost <="),
    *((f"min_{name}", name, f"{name} >=") for name in BENCHMARKS),
)
"""Numeric filter → its column and how a trace names it."""


def filter_bits(
    snap: Snapshot,
    *,
    input: str | Iterable[str] | None = None,
    output: str | Iterable[str] | None = None,
    mode: str | Iterable[str] | None = None,
    **limits: float | None,
) -> list[tuple[str, int]]:
    """Each filter of `models()` as (what a trace calls it, the bitset of models passing it): `select` takes
    them as requirements of every step, so its trace counts what each one rejected."""
    out = [
        (f"{direction}:{name}", feature_bits(snap, f"{direction}:{name}"))
        for direction, modalities in (("input", input), ("output", output))
        for name in _words(modalities)
    ]
    if mode is not None:
        out.append(("mode " + "|".join(_words(mode)), mode_bits(snap, _words(mode))))
    for name, column, label in LIMITS:
        bound = limits.get(name)
        if bound is None:
            continue
        is_min = name.startswith("min_")
        flags = ["0"] * snap.model_count
        for i, v in enumerate(snap.column(column)):
            if v is not None and (v >= bound if is_min else v <= bound):
                flags[i] = "1"
        out.append((f"{label} {bound}", int("".join(reversed(flags)) or "0", 2)))
    return out


def same_bits(snap: Snapshot, identity: str) -> int:
    """The models of one identity (the `identity` column), or the one model whose spec `identity` is."""
    ordinal = snap.ordinal(identity) if ":" in identity else None
    if ordinal is not None:
        return 1 << ordinal
    flags = ["1" if v == identity else "0" for v in snap.column("identity")]
    return int("".join(reversed(flags)) or "0", 2)


def mode_bits(snap: Snapshot, modes: list[str]) -> int:
    """Models of any of `modes`; `InvalidQuery` for a mode word no model has (with close matches)."""
    bits = 0
    for name in modes:
        found = snap.bits(f"mode:{name}")
        if not found and name not in MODES:  # no model has it, and it is no mode word: a typo
            known = snap.modes
            hint = did_you_mean(name, known)
            raise InvalidQuery(f"unknown mode {clip(name)}{hint}; known: {', '.join(known)}")
        bits |= found
    return bits


def provider_bits(snap: Snapshot, providers: Iterable[str]) -> int:
    bits = 0
    for pid in providers:
        bits |= snap.provider_bits(pid)
    return bits


def ordinals(snap: Snapshot, bits: int, *, order_by: str | None = None, **limits: float | None) -> list[int]:
    """Ordinals in `bits` that pass the numeric `limits` (`LIMITS`' names), in the requested order (default: by
    spec)."""
    found = list(snap.iter_ordinals(bits))
    for name, column, _ in LIMITS:
        bound = limits.get(name)
        if bound is None:
            continue
        values, is_min = snap.column(column), name.startswith("min_")
        found = [i for i in found if (v := values[i]) is not None and (v >= bound if is_min else v <= bound)]
    order = order_by or "spec"
    if order not in ORDERS:
        raise InvalidQuery(f"unknown order_by {order_by!r}; valid: {', '.join(ORDERS)}")
    if order == "cost":
        inp, out = snap.column("input_cost"), snap.column("output_cost")
        found.sort(key=lambda i: (inp[i] is None, inp[i] or 0.0, out[i] is None, out[i] or 0.0, i))
    elif order == "context":
        ctx = snap.column("context")
        found.sort(key=lambda i: (-(ctx[i] or 0), i))
    elif order == "release_date":
        dates = snap.column("release_date")
        found.sort(key=lambda i: (_negate(dates[i] or ""), i))
    elif order in BENCHMARKS:
        scores = snap.column(order)
        found.sort(key=lambda i: (scores[i] is None, -(scores[i] or 0.0), i))
    return found


def _negate(date: str) -> tuple[int, ...]:
    # Newest first, with a missing date last: "2025-06" sorts as (-2025, -6, 0).
    parts = [int(p) for p in date.split("-") if p.isdigit()] if date else []
    return tuple(-p for p in parts) + (0,) * (3 - len(parts)) if parts else (1,)


def select(
    snap: Snapshot,
    needs: list[tuple[str, bool]],
    *,
    prefer: Sequence[str],
    like: Model | None,
    scope: Sequence[str] | None,
    order_by: str | None,
    filters: Sequence[tuple[str, int]] = (),
    include_deprecated: bool = False,
    day: str | None = None,
) -> Selection:
    """Walk the fallback steps (preferred providers, `like`'s family, any model) and take the first match;
    `filters` (from `filter_bits`) must hold at every step, as `needs` must. Never a retired model, and a
    deprecated one only with `include_deprecated`, as of `day` (default today: `_calendar`)."""
    trace: list[TraceStep] = []
    day = day or _calendar.today()
    base = mask(snap, providers=scope, include_deprecated=include_deprecated, day=day, include_retired=False)
    checks = [(label, bits, True) for label, bits in filters]
    checks += [(("" if wanted else "not ") + key, feature_bits(snap, key), wanted) for key, wanted in needs]
    steps: list[tuple[str, int]] = [(f"prefer {pid}", base & provider_bits(snap, [pid])) for pid in prefer]
    if like is not None:
        # Upstream's family when the model has one (coarse: `claude-sonnet`), else its dated snapshots' base id.
        column, value = ("family", like.family) if like.family is not None else ("base_id", like.base_id)
        values = snap.column(column)
        same = sum(1 << i for i in snap.iter_ordinals(base) if value is not None and values[i] == value)
        steps.append((f"{column.replace('_', ' ')} {value} (like {like.spec})", same))
    steps.append(("any allowed model" + (f" in {', '.join(scope)}" if scope else ""), base))
    for name, candidates in steps:
        passing = candidates
        failures: dict[str, int] = {}
        for label, has, wanted in checks:
            fails = passing & ~has if wanted else passing & has
            if fails:
                failures[label] = fails
            passing &= ~fails
        found = ordinals(snap, passing, order_by=order_by or "release_date")
        rejected = [(snap.spec_at(i), reason) for reason, bits in failures.items() for i in snap.iter_ordinals(bits)]
        step = TraceStep(
            step=name,
            candidates=candidates.bit_count(),
            matched=len(found),
            rejected_by={reason: bits.bit_count() for reason, bits in failures.items()},
            rejected=tuple(rejected[:REJECTED_SHOWN]),
            chosen=snap.spec_at(found[0]) if found else None,
        )
        trace.append(step)
        if found:
            model = snap.model(snap.spec_at(found[0]))
            assert model is not None
            return Selection(model=_calendar.as_of(model, day), trace=tuple(trace))
    wanted_text = ", ".join([label for label, _ in filters] + [("" if w else "not ") + k for k, w in needs])
    wanted_text = wanted_text or "no requirements"
    raise NoMatch(f"no allowed model satisfies {wanted_text}", trace=tuple(trace))
