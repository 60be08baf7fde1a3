"""`llmdb.compat.litellm` against LiteLLM itself (litellm 1.109.1, whose bundled map is the shared file).

For every `mode: chat` entry of LiteLLM's map, LiteLLM's own `get_model_info(key)` is compared field by field
with the entry llmdb's compat view builds from the packaged snapshot (limits, token prices, capability flags,
mode, `litellm_provider`). Every difference must be explained by llmdb's provenance — a higher source
(models.dev) set the field, llmdb resolved the key to another model, another LiteLLM key of the same model
won, or LiteLLM's API reports a default for a field its map does not list — never by a mapping error.
A few exact facts (`gpt-4o`, `model_cost`, `cost_per_token`, unknown models) keep the comparison honest.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # LiteLLM's bundled map, no network

import litellm

import llmdb
from llmdb.compat import litellm as compat
from llmdb.schema import Model, Provenance

litellm.suppress_debug_info = True  # no "Provider List" banner per unresolvable key
pytestmark = pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning")  # pydantic, on LiteLLM's lazy imports

LITELLM_MAP = (
    Path(__file__).resolve().parents[2] / "shared" / "upstream" / "litellm" / "model_prices_and_context_window.json"
)

PRICES = (
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
)
FIELDS = (
    "max_input_tokens",
    "max_output_tokens",
    *PRICES,
    "supports_function_calling",
    "supports_vision",
    "supports_response_schema",
    "supports_reasoning",
    "mode",
    "litellm_provider",
)
LLMDB_FIELD = {
    "input_cost_per_token": "cost.input",
    "output_cost_per_token": "cost.output",
    "cache_read_input_token_cost": "cost.cache_read",
    "cache_creation_input_token_cost": "cost.cache_write",
    "max_input_tokens": "limits.context",
    "max_output_tokens": "limits.output",
    "supports_function_calling": "capabilities.tools.enabled",
    "supports_response_schema": "capabilities.json.schema",
    "supports_reasoning": "capabilities.reasoning.enabled",
    "supports_vision": "modalities.input",
    "mode": "mode",
    "litellm_provider": "extra.litellm_provider",
}
"""LiteLLM field → the llmdb field path whose provenance explains it."""
REL_TOL = 1e-9
MAX_UNRESOLVABLE = 20
"""Chat keys LiteLLM's own `get_model_info` cannot resolve (10 in 1.109.1: `jamba-*` and one Azure alias)."""


@dataclass
class Mismatch:
    key: str
    field: str
    litellm: Any
    llmdb: Any
    spec: str
    provenance: Provenance | None

    def __str__(self) -> str:
        prov = self.provenance
        where = (
            "no provenance" if prov is None else f"{prov.source} over {[(o.source, o.value) for o in prov.overridden]}"
        )
        return f"{self.key!r} {self.field}: litellm={self.litellm!r} llmdb={self.llmdb!r} ({self.spec}; {where})"


@dataclass
class Comparison:
    compared: int = 0
    unresolvable: list[str] = field(default_factory=list)
    explained: Counter[str] = field(default_factory=Counter)
    errors: list[Mismatch] = field(default_factory=list)


@pytest.fixture(scope="module")
def catalog() -> Iterator[llmdb.Catalog]:
    cat = llmdb.Catalog(llmdb.packaged_path())
    yield cat
    cat.close()


@pytest.fixture(scope="module")
def litellm_map() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(LITELLM_MAP.read_text())
    return data


@pytest.fixture
def packaged(catalog: llmdb.Catalog, monkeypatch: pytest.MonkeyPatch) -> compat.ModelCost:
    """The compat module's functions read the packaged snapshot, whatever the environment says."""
    view = compat.ModelCost(catalog)
    monkeypatch.setattr(compat, "model_cost", view)
    return view


def _litellm_info(key: str, cache: dict[str, dict[str, Any] | None]) -> dict[str, Any] | None:
    if key not in cache:
        try:
            cache[key] = dict(litellm.get_model_info(key))
        except Exception:  # LiteLLM's own resolution failing is counted, not ours to explain
            cache[key] = None
    return cache[key]


def _same(name: str, theirs: Any, ours: Any) -> bool:
    if name in PRICES and isinstance(theirs, (int, float)) and isinstance(ours, (int, float)):
        return math.isclose(theirs, ours, rel_tol=REL_TOL)
    return bool(theirs == ours)


def _absent_from_map(name: str, raw: dict[str, Any]) -> bool:
    """LiteLLM's map entry does not list the field: `get_model_info` made its value up (0 prices, inferred flags)."""
    if name == "max_output_tokens":
        return "max_output_tokens" not in raw and "max_tokens" not in raw
    if name == "supports_vision":
        return not ({"supports_vision", "supports_image_input", "supported_modalities"} & raw.keys())
    return name not in raw


def _tiered_base(name: str, raw: dict[str, Any]) -> Any:
    """The price of the tier starting at 0 of `tiered_pricing` (llmdb's base price; LiteLLM's API reports 0)."""
    for tier in raw.get("tiered_pricing") or ():
        if isinstance(tier, dict) and (tier.get("range") or [None])[0] == 0:
            return tier.get(name)
    return None


def _explain(
    key: str,
    name: str,
    theirs: Any,
    ours: Any,
    model: Model,
    prov: Provenance | None,
    raw: dict[str, Any],
    infos: dict[str, dict[str, Any] | None],
) -> str | None:
    """Why llmdb's value differs from LiteLLM's, or None for a mapping error."""
    if key not in model.names:
        return "key resolved to another model (bare id → its maker's)"
    if prov is not None and prov.source != "litellm":
        return f"higher source set it: {prov.source}"
    if (
        name == "supports_vision"
        and ours is True
        and prov is not None
        and any(o.source == "models.dev" for o in prov.overridden)
    ):
        return "vision: modalities union with models.dev"
    if prov is not None and any(o.source == "litellm" for o in prov.overridden):
        for other in model.names:
            info = _litellm_info(other, infos) if other != key else None
            if info is not None and _same(name, info.get(name), ours):
                return "another LiteLLM key of the same model won"
    if _absent_from_map(name, raw):
        if name in PRICES and _same(name, _tiered_base(name, raw), ours):
            return "tiered_pricing base price (LiteLLM's API reports 0)"
        if prov is None:
            return "LiteLLM's API default/inference for a field its map lacks"
    return None


@pytest.fixture(scope="module")
def comparison(catalog: llmdb.Catalog, litellm_map: dict[str, Any]) -> Comparison:
    result = Comparison()
    infos: dict[str, dict[str, Any] | None] = {}
    for key, raw in litellm_map.items():
        if not isinstance(raw, dict) or raw.get("mode") != "chat":
            continue
        theirs_info = _litellm_info(key, infos)
        if theirs_info is None:
            result.unresolvable.append(key)
            continue
        model = catalog.get(key)
        ours_info = compat.entry(model)
        result.compared += 1
        provenance: dict[str, Provenance] | None = None
        for name in FIELDS:
            theirs, ours = theirs_info.get(name), ours_info.get(name)
            if theirs is None or _same(name, theirs, ours):
                continue
            if provenance is None:
                provenance = catalog.explain(model.spec)
            path = LLMDB_FIELD[name]
            if name == "max_input_tokens" and model.limits.input is not None:
                path = "limits.input"
            prov = provenance.get(path)
            why = _explain(key, name, theirs, ours, model, prov, raw, infos)
            if why is None:
                result.errors.append(Mismatch(key, name, theirs, ours, model.spec, prov))
            else:
                result.explained[why] += 1
    print(
        f"\ncompared {result.compared} chat entries; LiteLLM cannot resolve {len(result.unresolvable)}: "
        f"{result.unresolvable}\nexplained differences: {dict(result.explained)}"
    )
    return result


def test_every_chat_entry_agrees_with_litellm_or_provenance_explains_why(comparison: Comparison) -> None:
    assert comparison.compared > 2500
    assert len(comparison.unresolvable) <= MAX_UNRESOLVABLE, comparison.unresolvable
    assert comparison.explained["higher source set it: models.dev"] > 0  # the explanations are exercised
    shown = "\n".join(str(m) for m in comparison.errors[:20])
    assert not comparison.errors, f"{len(comparison.errors)} differences no provenance explains:\n{shown}"


def test_gpt_4o_model_info_agrees(packaged: compat.ModelCost) -> None:
    ours, theirs = compat.get_model_info("gpt-4o"), litellm.get_model_info("gpt-4o")
    assert ours["input_cost_per_token"] == pytest.approx(theirs["input_cost_per_token"], rel=REL_TOL)
    assert ours["max_output_tokens"] == theirs["max_output_tokens"]
    assert compat.supports_vision("gpt-4o") is True
    assert litellm.supports_vision("gpt-4o") is True


def test_model_cost_lists_litellm_keys(packaged: compat.ModelCost) -> None:
    assert sum(1 for _ in compat.model_cost) >= 4000
    assert "vertex_ai/gemini-2.5-pro" in compat.model_cost  # LiteLLM files it as `gemini-2.5-pro`
    # `in` answers for names `get` refuses (ambiguous, empty model id, unknown), as a Mapping must
    assert "gpt-oss-120b" not in compat.model_cost and "openai:" not in compat.model_cost
    assert "no-such-model" not in compat.model_cost and 42 not in compat.model_cost
    with pytest.raises(KeyError):
        compat.model_cost["gpt-oss-120b"]


def test_cost_per_token_matches_litellm(packaged: compat.ModelCost) -> None:
    ours = compat.cost_per_token("gpt-4o", prompt_tokens=1000, completion_tokens=100)
    theirs = litellm.cost_per_token(model="gpt-4o", prompt_tokens=1000, completion_tokens=100)
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_cost_per_token_with_cached_and_reasoning_tokens_matches_litellm(packaged: compat.ModelCost) -> None:
    """LiteLLM's convention: `prompt_tokens` includes the cached ones; a usage object carries reasoning."""
    from litellm.types.utils import CompletionTokensDetailsWrapper, PromptTokensDetailsWrapper
    from litellm.types.utils import Usage as LiteLLMUsage

    ours = compat.cost_per_token("gpt-4o", prompt_tokens=10_000, completion_tokens=2_000, cache_read_input_tokens=4_000)
    theirs = litellm.cost_per_token(
        model="gpt-4o", prompt_tokens=10_000, completion_tokens=2_000, cache_read_input_tokens=4_000
    )
    assert ours == pytest.approx(theirs, rel=1e-9)
    assert sum(ours) == pytest.approx(0.040)
    usage = LiteLLMUsage(
        prompt_tokens=1_000,
        completion_tokens=1_000,
        total_tokens=2_000,
        prompt_tokens_details=PromptTokensDetailsWrapper(cached_tokens=200),
        completion_tokens_details=CompletionTokensDetailsWrapper(reasoning_tokens=500),
    )
    ours = compat.cost_per_token("o3-mini", usage_object=usage)
    theirs = litellm.cost_per_token(model="o3-mini", prompt_tokens=1_000, completion_tokens=1_000, usage_object=usage)
    assert ours == pytest.approx(theirs, rel=1e-9)
    assert ours[1] == pytest.approx(1_000 * 4.4 / 1e6)  # the 500 reasoning tokens are billed once


def test_unknown_model_raises_and_supports_nothing(packaged: compat.ModelCost) -> None:
    unknown = "no-such-model-llmdb-test"
    with pytest.raises(Exception, match="isn't mapped"):
        litellm.get_model_info(unknown)
    with pytest.raises(llmdb.ModelNotFound):
        compat.get_model_info(unknown)
    assert compat.supports_function_calling(unknown) is False
    assert litellm.supports_function_calling(unknown) is False
