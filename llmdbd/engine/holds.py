"""Jumps: an upstream update that moves a model's price more than `JUMP` times is held back, the shrink guard's
idea applied to values. Plain functions over layers: which prices of a new body jumped (`jumps`), the body as
served with them held at their last value (`apply`), and which holds a patch or a second upstream now releases
(`released`). The daemon keeps the holds with its upstream cache (docs/merging.md, "Jumps").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from llmdb.contract import HeldPrice
from llmdb.schema import BuildIssue, make_spec
from llmdbd.engine.agree import FIELDS, apart, same
from llmdbd.engine.layer import Layer

JUMP = 10
"""An update that moves a price more than this many times (up or down) is held back."""

PRICES = tuple(path.split(".")[1] for path in FIELDS if path.startswith("cost."))
"""The prices watched: the ones the agree stage checks (`cost.input`, `cost.output`, the cache prices)."""


def prices(layer: Layer, specs: Iterable[str] | None = None) -> dict[tuple[str, str], float]:
    """(spec, `cost.<name>`) → the positive price the layer's fragments give (the later fragment of a model
    wins, as in a merge); only for `specs` when given."""
    wanted = None if specs is None else set(specs)
    out: dict[tuple[str, str], float] = {}
    for fragment in sorted(layer.fragments, key=lambda f: f.order):
        cost = fragment.data.get("cost")
        if fragment.model is None or not isinstance(cost, dict):
            continue
        spec = make_spec(fragment.provider, fragment.model)
        if wanted is not None and spec not in wanted:
            continue
        for name in PRICES:
            value = cost.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                out[(spec, f"cost.{name}")] = value
    return out


def jumps(previous: Layer | None, new: Layer, held: Sequence[HeldPrice], since: str) -> list[HeldPrice]:
    """The holds in force once `new` replaces `previous` (the body served, with `held` held back): every price
    of a model both give that moved more than `JUMP` times from the value served. A hold whose new value is
    unchanged keeps its date; one the update returns within range of is dropped."""
    served = prices(previous) if previous is not None else {}
    served.update(((h.model, h.field), h.before) for h in held)
    kept = {(h.model, h.field): h for h in held}
    out = []
    for key, value in prices(new).items():
        before = served.get(key)
        if before is None or not apart(before, value, JUMP):
            continue
        hold = kept.get(key)
        if hold is None or not same(hold.after, value):
            hold = HeldPrice(model=key[0], field=key[1], before=before, after=value, since=since)
        out.append(hold)
    return out


def apply(layer: Layer, held: Sequence[HeldPrice]) -> Layer:
    """`layer` as served: each held price back at its last value, and a warning for each (stage `hold`)."""
    if not held:
        return layer
    by_spec: dict[str, list[HeldPrice]] = {}
    for hold in held:
        by_spec.setdefault(hold.model, []).append(hold)
    fragments = []
    for fragment in layer.fragments:
        holds = by_spec.get(make_spec(fragment.provider, fragment.model)) if fragment.model is not None else None
        cost = fragment.data.get("cost")
        if holds and isinstance(cost, dict):
            cost = dict(cost)
            for hold in holds:
                name = hold.field.removeprefix("cost.")
                if name in cost:
                    cost[name] = hold.before
            fragment = msgspec.structs.replace(fragment, data={**fragment.data, "cost": cost})
        fragments.append(fragment)
    issues = [
        BuildIssue(
            severity="warning",
            stage="hold",
            message=f"{hold}: held back until a patch sets {hold.after!r} or another upstream gives it",
            source=layer.info.name,
            file=layer.info.file,
            provider=hold.model.partition(":")[0],
            model=hold.model.partition(":")[2],
            field=hold.field,
        )
        for hold in held
    ]
    return msgspec.structs.replace(layer, fragments=fragments, issues=[*layer.issues, *issues])


def released(held: Sequence[HeldPrice], source: str, others: Sequence[Layer]) -> dict[tuple[str, str], str]:
    """(spec, field) → why, for each hold of upstream `source` that one of the `others` (other upstreams'
    layers and patch layers) now gives the new value of: the new value is confirmed."""
    specs = {h.model for h in held}
    out: dict[tuple[str, str], str] = {}
    for layer in others:
        if layer.info.name == source:
            continue
        given = prices(layer, specs)
        for hold in held:
            key = (hold.model, hold.field)
            if key not in out and key in given and same(given[key], hold.after):
                who = layer.info.file if layer.info.kind == "patch" and layer.info.file else layer.info.name
                out[key] = f"{who} gives {hold.after!r} too"
    return out
