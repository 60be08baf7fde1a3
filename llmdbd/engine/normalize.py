"""Normalize stage: canonical provider ids, price float noise, and `0` limits meaning unknown."""

from __future__ import annotations

import re
from typing import Any

from llmdb.schema import canonical_provider_id
from llmdbd.engine.layer import Layer

SIGNIFICANT_DIGITS = 10
_NON_CANONICAL_GLOB = re.compile(r"[^a-z0-9_*?\[\]!]")


def normalize(layer: Layer) -> None:
    """Rewrite every fragment of `layer` in place (layers own their data)."""
    for frag in layer.fragments:
        upstream = frag.provider
        frag.provider = canonical_provider_id(upstream)
        data = frag.data
        if frag.model is None:
            if upstream != frag.provider:
                aliases = data.get("aliases")
                data["aliases"] = [upstream, *(aliases if isinstance(aliases, list) else ())]
            continue
        cost = data.get("cost")
        if isinstance(cost, dict):
            _round_prices(cost)
        limits = data.get("limits")
        if isinstance(limits, dict):
            for key, value in limits.items():
                if value == 0 and value is not False:
                    limits[key] = None
    layer.excludes = [_canonical_glob(g) for g in layer.excludes]


def round_price(value: float) -> float:
    """`0.30000000000000004` → `0.3`: upstream float artefacts, rounded to 10 significant digits."""
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def _round_prices(table: dict[str, Any]) -> None:
    """Every float in a cost table, its tiers, service tiers and per-unit prices."""
    for key, value in table.items():
        if isinstance(value, float):
            table[key] = round_price(value)
        elif isinstance(value, dict):
            _round_prices(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    _round_prices(item)


def _canonical_glob(pattern: str) -> str:
    """`Google-Vertex:gemini-*` → `google_vertex:gemini-*`; glob characters in the provider part stay globs
    (`*:gpt-3.5-*` excludes from every provider), the model part stays verbatim."""
    provider, sep, rest = pattern.partition(":")
    return _NON_CANONICAL_GLOB.sub("_", provider.lower()) + sep + rest if sep else pattern
