"""Prices stage: a price of 0 is free only where a source says so; anywhere else it is unknown.

Upstreams write 0 for "free" and for "not known" alike (local models, subscription plans, previews, gaps). The
rules (docs/cost.md, "Free and unknown"), for values the upstreams gave (a patch's or an override's 0 is its word):

1. `free`: a model is free when its id says so (`:free`, `-free`: OpenRouter's and the gateways' free variants),
   its provider runs on the user's own machine (`LOCAL`), or a patch or override sets a price of 0; its zeros
   stand, every one.
2. `next`: where the upstream that wins a price gives 0 and a lower one gives a positive price, that price serves.
3. `unknown`: a model with no positive price anywhere in its cost has no price: its zeros are dropped, so `cost`
   raises `PriceUnknown` and `order_by="cost"` puts it last.
4. `input`: an input price of 0 beside a positive output or cache price is unknown (a cache price is a share of
   the input price; no provider bills output and gives input away).
5. `cache`: a cache price of 0 where input costs money is no price: a cache write bills as input where the
   model's maker caches implicitly (`WRITES_AS_INPUT`: a miss is an input token), else it is unknown; a cache
   read of 0 is unknown.

A value dropped reads as deleted by `enrich` in its provenance, with the upstream's 0 among what it overrode.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from llmdb.contract import maker_in
from llmdbd.engine.merge import FieldSource, ModelKey, derived, put_at, value_at

LOCAL = ("atomic_chat", "lemonade", "llamafile", "lmstudio", "ollama", "ollama_chat", "hosted_vllm", "xinference")
"""Providers that run on the user's own machine: their models cost nothing per token."""

FREE_ID = re.compile(r"[:-]free$", re.IGNORECASE)
"""A free variant's id (`deepseek/deepseek-r1:free`, `glm-4.7-free`)."""

WRITES_AS_INPUT = ("deepseek", "moonshotai", "openai", "xai", "zai")
"""Makers whose APIs cache implicitly: a cache write is an input token at the input price, whoever hosts it."""

SERVICES = ("batch", "flex", "priority")
CACHE = ("cache_read", "cache_write", "cache_write_1h")


def prices(
    models: dict[ModelKey, dict[str, Any]], sources: dict[ModelKey, dict[str, FieldSource]], upstream: set[int]
) -> Counter[str]:
    """Apply the rules to every merged record in place; `upstream` numbers the upstream sources (the only ones
    whose zeros are read). Returns how many models (`free`, `unknown`) and values (`cache_*`, `as_input`) each
    rule decided."""
    counts: Counter[str] = Counter()
    for (provider, model_id), record in models.items():
        cost = record.get("cost")
        if not isinstance(cost, dict):
            continue
        fields = sources[(provider, model_id)]
        zeros = [p for p in fields if p.startswith("cost.") and _given(fields, p, upstream) and _get(record, p) == 0]
        if not zeros:
            continue
        free = provider in LOCAL or FREE_ID.search(model_id) is not None or _patched(record, fields, upstream)
        if free:  # its zeros stand, every one
            counts["free"] += not _positive_anywhere(cost)
            continue
        for path in zeros:
            counts["next"] += _next(record, fields, path, upstream)
        if not _positive_anywhere(cost):
            for path in [p for p in fields if p.startswith("cost.") and _given(fields, p, upstream)]:
                _drop(record, fields, path)
            if not _any_value(cost):
                del record["cost"]
            counts["unknown"] += 1
            continue
        for prefix, group in _groups(cost):
            shares = any(_positive(group.get(n)) for n in ("output", *CACHE))  # a cache price: a share of input
            if group.get("input") == 0 and shares and _given(fields, f"{prefix}.input", upstream):
                _drop(record, fields, f"{prefix}.input")
                counts["input"] += 1
            if not _positive(group.get("input")):
                continue
            for name in CACHE:
                path = f"{prefix}.{name}"
                if _get(record, path) != 0 or not _given(fields, path, upstream):
                    continue
                if name != "cache_read" and maker_in(model_id) in WRITES_AS_INPUT:
                    group[name] = group["input"]
                    fields[path] = derived(fields[path], 0)
                    counts["as_input"] += 1
                else:
                    _drop(record, fields, path)
                    counts[name] += 1
    return counts


def _next(record: dict[str, Any], fields: dict[str, FieldSource], path: str, upstream: set[int]) -> int:
    """Serve the positive price the next upstream gives where the winner's is 0 (a 0 is no price); 1 if one did."""
    winner, _, replaced = fields[path]
    below = [(i, v) for i, v in replaced if i in upstream and i != winner and _positive(v)]
    if not below:
        return 0
    index, value = below[-1]  # the highest precedence of those below
    put_at(record, path, value)
    fields[path] = (index, False, (*((i, v) for i, v in replaced if i != index), (winner, 0)))
    return 1


def _groups(cost: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The price groups a cache rule reads: the standard prices and each service tier's."""
    found = [("cost", cost)]
    for name in SERVICES:
        group = cost.get(name)
        if isinstance(group, dict):
            found.append((f"cost.{name}", group))
    return found


def _given(fields: dict[str, FieldSource], path: str, upstream: set[int]) -> bool:
    """The field's value came from an upstream (not a patch, override or a rule) and was not deleted."""
    found = fields.get(path)
    return found is not None and not found[1] and found[0] in upstream


def _patched(record: dict[str, Any], fields: dict[str, FieldSource], upstream: set[int]) -> bool:
    """A patch, an override or the configuration set a price of 0: the model is free by its author's word."""
    return any(
        p.startswith("cost.") and not f[1] and f[0] and f[0] not in upstream and _get(record, p) == 0
        for p, f in fields.items()
    )


def _drop(record: dict[str, Any], fields: dict[str, FieldSource], path: str) -> None:
    """Remove the value at `path`, its provenance saying `enrich` (0) deleted the upstream's value."""
    parent, _, last = path.rpartition(".")
    table = value_at(record, parent)
    if not isinstance(table, dict) or last not in table:
        return
    fields[path] = derived(fields[path], table.pop(last), deleted=True)


def _get(record: dict[str, Any], path: str) -> Any:
    """The number at `path` (None for anything else: a table, a list, a bool, nothing)."""
    value = value_at(record, path)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _positive_anywhere(value: Any) -> bool:
    """Some price in `value` (a cost, its tiers, services and per-unit prices) is above 0."""
    if isinstance(value, dict):
        return any(_positive_anywhere(v) for k, v in value.items() if k != "above")  # a tier's start is no price
    if isinstance(value, (list, tuple)):
        return any(_positive_anywhere(v) for v in value)
    return _positive(value)


def _any_value(value: Any) -> bool:
    """Anything but empty containers is left."""
    if isinstance(value, dict):
        return any(_any_value(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_any_value(v) for v in value)
    return value is not None
