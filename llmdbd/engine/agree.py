"""Agree stage: the upstreams check each other. Where the upstream that wins a price or a limit by precedence
disagrees with two or more upstreams that agree with each other, their value wins; the overruled value stays in
the field's provenance (what `explain` lists as overridden) and the build report says why. A value a patch or an
override set is never touched. `consensus = false` in the configuration turns this off (docs/merging.md,
"Agreement").
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


def agree(merged: Merged, first_index: int) -> list[BuildIssue]:
    """Apply the agreement rule to every merged model (in place); one warning per value overruled."""
    sources = merged.sources
    upstream = {first_index + i for i, s in enumerate(sources) if s.kind == "upstream"}
    issues = []
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
            if len(others) < 2 or any(same(value, v) for v in others.values()):
                continue
            groups: list[list[int]] = []
            for index, old in sorted(others.items()):
                group = next((g for g in groups if same(others[g[0]], old)), None)
                if group is None:
                    groups.append([index])
                else:
                    group.append(index)
            majority = [g for g in groups if len(g) >= 2]
            if len(majority) != 1:
                continue  # no two agree, or two camps: precedence decides
            camp = majority[0]
            top = max(camp)  # the agreeing source with the highest precedence sets the value
            table[name] = others[top]
            rest = tuple((i, v) for i, v in replaced if i != top)
            fields[path] = (top, False, (*rest, (winner, value)))
            agreed = ", ".join(sources[i - first_index].name for i in sorted(camp, reverse=True))
            issues.append(
                BuildIssue(
                    severity="warning",
                    stage="agree",
                    message=f"{path} {value!r} overruled: {agreed} agree on {others[top]!r}",
                    source=sources[winner - first_index].name,
                    file=sources[winner - first_index].file,
                    provider=key[0],
                    model=key[1],
                    field=path,
                )
            )
    return issues
