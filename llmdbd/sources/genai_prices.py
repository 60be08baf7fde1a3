"""genai-prices (`prices/new_data/v2/data.json`, Pydantic's hand-checked prices): a price source.

Its entries are not models with llmdb ids: each is a price list with a rule (`match`) saying which model names
it prices. So the layer is placed against the other upstreams' models (`place`): under the llmdb provider its
provider maps to (`PROVIDERS`), every model id the rule matches gets the entry's prices and context window (the
first matching entry of its provider, as genai-prices itself picks). An entry that matches no model is a
warning naming it, never a guess (docs/merging.md, "genai-prices").

Prices are USD per 1M tokens already (`*_mtok`); `{base, tiers: [{start, price}]}` is a base price and context
tiers above `start` tokens; a price list with constraints is read as of a day (today, unless `as_of` says): the
entry without a constraint, then each `start_date` constraint in force; time-of-day prices (DeepSeek's off-peak)
are kept in `extra`. A price in force since a `start_date` is a dated price: the layer's `dated` names the models
it prices, whose dated prices overrule the other upstreams' undated ones (`engine.agree`), and `history import`
records a catalog on each start date (`dates`).
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import msgspec
from msgspec import Struct

from llmdb.schema import canonical_provider_id
from llmdbd.engine.layer import Fragment, Layer
from llmdbd.sources import upstream_json
from llmdbd.sources.fields import copy_tables

NAME = "genai-prices"
DEFAULT_URL = "https://raw.githubusercontent.com/pydantic/genai-prices/main/prices/new_data/v2/data.json"

PROVIDERS: dict[str, tuple[str, ...]] = {
    "aws": ("amazon_bedrock",),
    "google": ("google", "google_vertex"),
    "fireworks": ("fireworks_ai",),
    "together": ("togetherai",),
    "x-ai": ("xai",),
    "novita": ("novita_ai",),
    "voyageai": ("voyage",),
}
"""genai-prices provider id → the llmdb providers its rules price, where they differ; any other keeps its
canonical id (`anthropic`, `openai`, `azure`, `mistral`, `deepseek`, `openrouter`, ...). Google's prices are the
Gemini API's and Vertex AI's alike (its `provider_match` names both). A provider's `fallback_model_providers`
(Azure: OpenAI's, then Anthropic's) add their rules after its own, as genai-prices looks them up."""

_TOKEN_PRICES = {
    "input_mtok": "input",
    "output_mtok": "output",
    "cache_read_mtok": "cache_read",
    "cache_write_mtok": "cache_write",
    "cache_write_1h_mtok": "cache_write_1h",
    "output_reasoning_mtok": "reasoning",
    "input_audio_mtok": "input_audio",
    "output_audio_mtok": "output_audio",
    "input_image_mtok": "input_image",
    "output_image_mtok": "output_image",
}
_PER_THOUSAND = {"web_searches_kcount": "web_search", "requests_kcount": "request"}
"""USD per 1,000 → `cost.per_unit` (USD per one)."""


class Priced(Struct, frozen=True, kw_only=True):
    """What an entry says of the models it matches as of one day, and when its price list changes."""

    data: dict[str, Any]
    since: str | None = None
    """The start date of the prices in force, when a `start_date` constraint set them."""
    dates: tuple[str, ...] = ()
    """Every start date of its price list."""
    replaced: dict[str, Any] = {}
    """The prices in force before `since` (llmdb's `cost` names)."""


class Rule(Priced, frozen=True, kw_only=True):
    """One entry as placed under an llmdb provider: which model names it prices (`match`) and what it says of
    them; `fallback`: another provider's entry, tried after the provider's own (not reported when it matches
    nothing)."""

    provider: str
    entry: str
    match: Any
    fallback: bool = False


def looks_like(head: bytes) -> bool:
    """genai-prices' data: providers with a `model_match` and an `api_pattern`."""
    return b'"api_pattern"' in head and b'"model_match"' in head


def load_path(path: str | Path, *, origin: str | None = None, as_of: str | None = None) -> Layer:
    """Read the data from a file; a file that cannot be read becomes a layer holding only the error."""
    return upstream_json.read(path, NAME, functools.partial(load_bytes, as_of=as_of), origin)


def load_bytes(data: bytes, *, file: str | None = None, version: str | None = None, as_of: str | None = None) -> Layer:
    """The rules of the data, not yet placed (`place` turns them into fragments), with the prices in force on
    day `as_of` (ISO; default today, UTC)."""
    layer, providers = upstream_json.decode(data, NAME, file=file, version=version, holding="providers", kind=list)
    if providers is None:
        return layer
    today = as_of or datetime.datetime.now(datetime.UTC).date().isoformat()
    own: dict[str, list[tuple[str, Any, Priced]]] = {}
    fallbacks: dict[str, list[str]] = {}
    for i, raw in enumerate(providers):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not isinstance(raw.get("models"), list):
            layer.issue("load", "provider is not an object with an `id` and a list of `models`", field=f"[{i}]")
            continue
        entries = own[raw["id"]] = []
        fallbacks[raw["id"]] = [f for f in raw.get("fallback_model_providers") or [] if isinstance(f, str)]
        for j, model in enumerate(raw["models"]):
            where = f"{raw['id']}.models[{j}]"
            if not isinstance(model, dict) or not isinstance(model.get("id"), str) or "match" not in model:
                said = "model is not an object with an `id` and a `match`"
                layer.issue("load", said, provider=raw["id"], field=where)
                continue
            entries.append((f"{raw['id']}/{model['id']}", model["match"], model_fields(model, today)))
    layer.rules = [
        Rule(provider=target, entry=entry, match=match, fallback=source != pid, **msgspec.structs.asdict(priced))
        for pid in own
        for target in PROVIDERS.get(pid, (canonical_provider_id(pid),))
        for source in (pid, *fallbacks[pid])
        for entry, match, priced in own.get(source, ())
    ]
    return layer


def dates(layer: Layer) -> list[str]:
    """Every start date the layer's price lists name, in order: the days its prices change."""
    return sorted({day for rule in layer.rules for day in rule.dates})


def model_fields(raw: dict[str, Any], today: str) -> Priced:
    """What an entry says of the models it matches on day `today`, in llmdb's names (values unchecked: validate
    reports)."""
    out: dict[str, Any] = {}
    since: str | None = None
    days: tuple[str, ...] = ()
    before: Any = None
    if raw.get("context_window") is not None:
        out["limits"] = {"context": raw["context_window"]}
    prices = raw.get("prices")
    if isinstance(prices, list):  # as of today: no constraint, then each start date reached, latest last
        current: dict[str, Any] = {}
        items = sorted((p for p in prices if isinstance(p, dict)), key=_start)
        days = tuple(sorted({day for item in items if (day := _start(item))}))
        for item in items:
            constraint = item.get("constraint")
            if constraint is None or (set(constraint) == {"start_date"} and str(constraint["start_date"]) <= today):
                before, current = current, item.get("prices") or {}
                since = _start(item) or None
            elif "start_date" not in constraint:  # a time of day: no llmdb price says it
                out.setdefault("extra", {}).setdefault("genai_prices_conditional", []).append(item)
        prices = current
    if isinstance(prices, dict):
        cost = _cost(prices, out)
        if cost:
            out["cost"] = cost
    elif prices is not None:
        out["extra"] = {"genai_prices": prices}
    if since is None or "cost" not in out or not isinstance(before, dict):
        return Priced(data=out, dates=days)
    return Priced(data=out, since=since, dates=days, replaced=_cost(before, {}))


def _start(item: dict[str, Any]) -> str:
    constraint = item.get("constraint")
    return str(constraint.get("start_date", "")) if isinstance(constraint, dict) else ""


def _cost(prices: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    cost: dict[str, Any] = {}
    for key, value in prices.items():
        if key in _TOKEN_PRICES:
            field = _TOKEN_PRICES[key]
            if isinstance(value, dict) and "base" in value:
                cost[field] = value["base"]
                for tier in value.get("tiers") or []:
                    if isinstance(tier, dict):
                        _tier(cost, tier.get("start"))[field] = tier.get("price")
            else:
                cost[field] = value
        elif key in _PER_THOUSAND:
            unit = value / 1000 if isinstance(value, (int, float)) and not isinstance(value, bool) else value
            cost.setdefault("per_unit", {})[_PER_THOUSAND[key]] = unit
        else:
            out.setdefault("extra", {}).setdefault("genai_prices", {})[key] = value
    if "tiers" in cost:
        cost["tiers"].sort(key=lambda t: t["above"] if isinstance(t["above"], int) else 0)
    return cost


def _tier(cost: dict[str, Any], start: Any) -> dict[str, Any]:
    tiers: list[dict[str, Any]] = cost.setdefault("tiers", [])
    found = next((t for t in tiers if t["above"] == start), None)
    if found is None:
        found = {"above": start}
        tiers.append(found)
    return found


def matches(clause: Any, name: str) -> bool:
    """genai-prices' rule semantics: `equals`, `starts_with`, `ends_with`, `contains` ignore case, `regex` is
    `re.search`, `or` / `and` combine; anything else matches nothing."""
    return _compiled(clause)(name.lower(), name)


_Test = Callable[[str, str], bool]
"""A compiled rule: (the name lower-cased, the name as it is) → whether it matches."""


def _compiled(clause: Any) -> _Test:
    """`clause` as a function, built once per rule (placing tries each rule on every id of its provider)."""
    if not isinstance(clause, dict) or len(clause) != 1:
        return _never
    kind, value = next(iter(clause.items()))
    if kind in ("or", "and") and isinstance(value, list):
        parts = [_compiled(c) for c in value]
        if kind == "or":
            return lambda lower, name: any(part(lower, name) for part in parts)
        return lambda lower, name: all(part(lower, name) for part in parts)
    if not isinstance(value, str):
        return _never
    text = value.lower()
    if kind == "equals":
        return lambda lower, name: lower == text
    if kind == "starts_with":
        return lambda lower, name: lower.startswith(text)
    if kind == "ends_with":
        return lambda lower, name: lower.endswith(text)
    if kind == "contains":
        return lambda lower, name: text in lower
    if kind == "regex":
        try:
            pattern = re.compile(value)
        except re.error:
            return _never
        return lambda lower, name: pattern.search(name) is not None
    return _never


def _never(lower: str, name: str) -> bool:
    return False


def _equals(clause: Any) -> set[str] | None:
    """The lower-cased names a rule of `equals` clauses alone (or an `or` of them) matches; None for others."""
    if isinstance(clause, dict) and len(clause) == 1:
        kind, value = next(iter(clause.items()))
        if kind == "equals" and isinstance(value, str):
            return {value.lower()}
        if kind == "or" and isinstance(value, list):
            found: set[str] = set()
            for part in value:
                names = _equals(part)
                if names is None:
                    return None
                found |= names
            return found
    return None


_PLACED: list[tuple[Layer, tuple[Layer, ...], Layer]] = []
"""The last placement (its inputs kept, so identity is meaningful): a rebuild over the same layers reuses it."""


def place(layer: Layer, others: Sequence[Layer]) -> Layer:
    """`layer`'s rules as fragments on the models the `other` upstream layers define: each model id of a rule's
    provider that the rule matches gets its fields (the first matching rule of the provider wins). A rule that
    matches nothing is a warning."""
    key = tuple(others)
    if _PLACED and _PLACED[0][0] is layer and list(map(id, _PLACED[0][1])) == list(map(id, key)):
        return _PLACED[0][2]
    ids: dict[str, dict[str, list[str]]] = {}  # provider → lower-cased id → ids
    for other in others:
        for fragment in other.fragments:
            if fragment.model is not None:
                named = ids.setdefault(canonical_provider_id(fragment.provider), {})
                same = named.setdefault(fragment.model.lower(), [])
                if fragment.model not in same:
                    same.append(fragment.model)
    placed = Layer(info=layer.info, fragments=[], issues=list(layer.issues), dated={})
    taken: set[tuple[str, str]] = set()
    for rule in layer.rules:
        named = ids.get(rule.provider, {})
        exact = _equals(rule.match)
        if exact is not None:  # most rules: a dict lookup, not a scan
            hits = [m for name in sorted(exact) for m in named.get(name, ())]
        else:
            test = _compiled(rule.match)
            hits = [m for lower, same in named.items() for m in same if test(lower, m)]
        fresh = [m for m in hits if (rule.provider, m) not in taken]
        for model in fresh:
            taken.add((rule.provider, model))
            placed.fragments.append(
                Fragment(provider=rule.provider, model=model, data=copy_tables(rule.data), where=rule.entry)
            )
            if rule.since is not None:
                placed.dated[(rule.provider, model)] = (rule.since, rule.replaced)
        if not hits and not rule.fallback:
            placed.issue("place", f"{rule.entry} matches no {rule.provider} model; not placed", severity="warning")
    _PLACED[:] = [(layer, key, placed)]
    return placed
