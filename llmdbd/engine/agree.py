"""Agree stage: the upstreams check each other. Where the upstream that wins a price or a limit by precedence
disagrees with two or more upstreams that agree with each other, their value wins; the overruled value stays in
the field's provenance (what `explain` lists as overridden) and the build report says why. A dated price
overrules an upstream still at the price it replaced. A value a patch or an override set is never touched.
`consensus = false` in the configuration turns all this off but the unit-slip check (docs/merging.md, "Agreement").
"""

from __future__ import annotations

import math
from typing import Any

from llmdb.schema import BuildIssue
from llmdbd.engine.merge import Merged

FIELDS = (
    "cost.input",
    "cost.output",
    "cost.cache_read",
    "cost.cache_write",
    "cost.cache_write_1h",
    "limits.context",
    "limits.output",
)
"""The fields the upstreams check each other on: what a bill or a request's fit depends on."""


def same(a: Any, b: Any) -> bool:
    """Two values agree: equal, or numbers equal but for float noise (`0.049999999999999996` and `0.05`).
    Rounding a price to two digits (`0.13` for `0.125`) is a disagreement: it changes every bill."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


SLIP = 100
"""A price more than this many times, or less than one this-many-th, of two or more other upstreams' for the same
model is a unit error (per token for per 1M, cents for dollars): refused, whatever the rule and precedence say.
Against one other price alone, nothing tells which of the two slipped: both are named in a warning."""


def agree(
    merged: Merged,
    first_index: int,
    *,
    consensus: bool = True,
) -> list[BuildIssue]:
    """Check every merged model's prices and limits across the upstreams (in place). A price that slipped a unit
    is refused. With `consensus`: a price a source dates (`Merged.dated`: source number → model → since when
    and the price it replaced) overrules the value precedence picked while that is still the replaced
    price; two or more agreeing against the value precedence picked overrule it. One warning per value refused
    or overruled, naming the source, field and values."""
    dated = merged.dated
    sources = merged.sources
    upstream = {first_index + i for i, s in enumerate(sources) if s.kind == "upstream"} - merged.carried
    issues: list[BuildIssue] = []

    def warn(key: tuple[str, str], path: str, index: int, message: str) -> None:
        source = sources[index - first_index]
        issues.append(
            BuildIssue(
                severity="warning",
                stage="agree",
                message=message,
                source=source.name,
                file=source.file,
                provider=key[0],
                model=key[1],
                field=path,
            )
        )

    for key, fields in merged.model_sources.items():
        record = merged.models[key]
        for path in FIELDS:
            found = fields.get(path)
            if found is None or found[1] or found[0] not in upstream:
                continue  # unset, deleted, or set above the upstreams: their word stands
            winner, _, replaced = found
            section, name = path.split(".")
            table = record.get(section)
            if not isinstance(table, dict) or name not in table:
                continue
            value = table[name]
            others: dict[int, Any] = {}
            for index, old in replaced:
                if index in upstream and index != winner and old is not None:
                    others[index] = old  # the latest value of each source
            if not others:
                continue
            if section == "cost":
                newer = [
                    i for i in others if consensus and key in dated.get(i, {}) and key not in dated.get(winner, {})
                ]
                if newer:  # out of date: the winner still gives the price a dating source says was replaced
                    top = max(newer)
                    since, before = dated[top][key]
                    if _positive(others[top]) and same(value, before.get(name)) and not same(value, others[top]):
                        _serve(table, name, fields, path, top, others[top], replaced, winner, value)
                        said = f"{path} {value!r} overruled: {sources[top - first_index].name} bills {others[top]!r}"
                        warn(key, path, winner, f"{said} since {since}, replacing {value!r}")
                        winner, value = top, others.pop(top)
                        replaced = fields[path][2]
                        others = {i: v for i, v in others.items() if not same(v, before.get(name))}  # out of date
                for index, old in list(others.items()):
                    if slipped(old, [value, *(v for i, v in others.items() if i != index)]):
                        del others[index]
                        warn(key, path, index, f"{path} {old!r} refused as a unit error: the others give {value!r}")
                if slipped(value, list(others.values())):
                    prices = {i: v for i, v in others.items() if _positive(v)}  # slipped() needs two of these
                    camp = majority(value, prices) if consensus else None
                    top = max(camp) if camp is not None else max(prices)  # agreement, else precedence
                    shown = ", ".join(f"{sources[i - first_index].name} {v!r}" for i, v in sorted(prices.items()))
                    _serve(table, name, fields, path, top, prices[top], replaced, winner, value)
                    warn(key, path, winner, f"{path} {value!r} refused as a unit error: {shown}")
                    continue
                if len(others) == 1 and apart(value, *others.values()):
                    ((index, old),) = others.items()
                    other = sources[index - first_index].name
                    said = f"{path} {value!r} and {other}'s {old!r} are more than {SLIP}x apart: one is a unit error"
                    warn(key, path, winner, said + "; precedence keeps this one")
            camp = majority(value, others) if consensus else None
            if camp is None:
                continue
            top = max(camp)  # the agreeing source with the highest precedence sets the value
            _serve(table, name, fields, path, top, others[top], replaced, winner, value)
            agreed = ", ".join(sources[i - first_index].name for i in sorted(camp, reverse=True))
            warn(key, path, winner, f"{path} {value!r} overruled: {agreed} agree on {others[top]!r}")
    return issues


def slipped(value: Any, others: list[Any]) -> bool:
    """`value` is more than `SLIP` times, or less than 1/`SLIP`, of two or more other (positive) prices, all."""
    prices = [v for v in others if _positive(v)]
    return len(prices) >= 2 and all(apart(value, v) for v in prices)


def apart(a: Any, b: Any, factor: float = SLIP) -> bool:
    """Two positive prices more than `factor` times apart (a unit slip; `engine.holds`: a jump)."""
    return _positive(a) and _positive(b) and (a > factor * b or a * factor < b)


def _positive(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0


def majority(value: Any, others: dict[int, Any]) -> list[int] | None:
    """The sources of `others` agreeing on one value that `value` is not, two or more of them and the only such
    camp; None when precedence should decide (fewer than two others, one agrees with `value`, no camp, two)."""
    if len(others) < 2 or any(same(value, v) for v in others.values()):
        return None
    groups: list[list[int]] = []
    for index, old in sorted(others.items()):
        group = next((g for g in groups if same(others[g[0]], old)), None)
        if group is None:
            groups.append([index])
        else:
            group.append(index)
    camps = [g for g in groups if len(g) >= 2]
    return camps[0] if len(camps) == 1 else None


def _serve(
    table: dict[str, Any],
    name: str,
    fields: dict[str, Any],
    path: str,
    top: int,
    value: Any,
    replaced: tuple[tuple[int, Any], ...],
    winner: int,
    before: Any,
) -> None:
    """Serve `value` from source `top`, keeping what precedence had picked (`before`, from `winner`) among the
    values the field replaced."""
    table[name] = value
    rest = tuple((i, v) for i, v in replaced if i != top)
    fields[path] = (top, False, (*rest, (winner, before)))
