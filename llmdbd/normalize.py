"""Normalize stage: canonical provider ids, price float noise, and `0` limits meaning unknown."""

from __future__ import annotations

from typing import Any

from llmdb.schema import canonical_provider_id
from llmdbd.layer import DELETE, Layer

SIGNIFICANT_DIGITS = 10


def normalize(layers: list[Layer]) -> None:
    """Rewrite every fragment in place; layers own their data."""
    for layer in layers:
        if layer.prepared:
            continue
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
                tiers = cost.get("tiers")
                for tier in tiers if isinstance(tiers, list) else ():
                    if isinstance(tier, dict):
                        _round_prices(tier)
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
    for key, value in table.items():
        if isinstance(value, float):
            table[key] = round_price(value)


def _canonical_glob(pattern: str) -> str:
    provider, sep, rest = pattern.partition(":")
    return canonical_provider_id(provider) + sep + rest if sep and provider != DELETE else pattern
