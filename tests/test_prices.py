"""Free apart from unknown (`llmdbd/engine/prices.py`, docs/cost.md "Free and unknown"): a 0 an upstream gives is
free only where a source says so (a free variant's id, a local provider, a patch); elsewhere it is unknown and
`cost` raises `PriceUnknown`; a cache price of 0 where input costs money bills as input (implicit caching makers)
or is unknown. On the real shared files, with the counts docs/cost.md gives."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from typing import Any

import pytest

import llmdb
from llmdb.schema import SourceInfo
from llmdbd.engine import build
from llmdbd.engine.catalog import BuiltCatalog
from llmdbd.engine.layer import Fragment, Layer
from llmdbd.engine.prices import FREE_ID, LOCAL


def rules(built: BuiltCatalog) -> Counter[str]:
    """How many models or values each rule decided, read back from the catalog and its provenance."""
    counts: Counter[str] = Counter()
    for spec, model in built.models.items():
        fields = built.model_sources[spec]
        dropped = {p for p, (index, deleted, _) in fields.items() if p.startswith("cost.") and deleted and index == 0}
        if model.cost is None and dropped:
            counts["unknown"] += 1
            continue
        counts.update(p.rsplit(".", 1)[1] for p in dropped)
        for path, (index, _, replaced) in fields.items():
            if path.startswith("cost.") and index and replaced and replaced[-1][0] > index and replaced[-1][1] == 0:
                counts["next"] += 1  # a higher upstream's 0, and a lower one's price serving
        write = fields.get("cost.cache_write")
        if write is not None and write[0] == 0 and not write[1] and write[2] and write[2][-1][1] == 0:
            counts["as_input"] += 1
        cost = model.cost
        if cost is not None and cost.input == 0 and cost.output == 0:
            counts["free" if model.provider in LOCAL or FREE_ID.search(model.id) else "per_unit"] += 1
    return counts


def test_the_counts_on_the_shared_files(both_catalog: BuiltCatalog) -> None:
    counts = rules(both_catalog)
    assert counts == {
        "next": 13,  # a 0 above another upstream's price: the price (`vercel:meta/llama-3.3-70b` 0.72)
        "unknown": 445,  # 0/0 with nothing that says free: token plans, GitLab Duo, GitHub Models, gaps
        "free": 107,  # 65 free variants by id, 42 on local providers
        "per_unit": 27,  # rerank, Lyria, ...: billed per query or item, no token price
        "as_input": 100,  # cache writes of implicit-caching makers (DeepSeek, OpenAI, GLM, Kimi, Grok)
        "cache_read": 24,
        "cache_write": 7,
        "input": 5,
    }, counts


@pytest.mark.parametrize(
    "spec",
    [
        "gitlab:duo-chat-gpt-5-1",
        "alibaba_token_plan:deepseek-v3.2",
        "github_models:cohere/cohere-command-a",
        "google:gemini-exp-1206",
        "zai_coding_plan:glm-4.7",
    ],
)
def test_a_zero_nobody_calls_free_is_unknown(both_catalog: BuiltCatalog, spec: str) -> None:
    model = both_catalog.models[spec]
    assert model.cost is None or model.cost.input is None, model.cost
    index, deleted, replaced = both_catalog.model_sources[spec]["cost.input"]
    assert (index, deleted) == (0, True) and replaced[-1][1] == 0  # the upstream's 0, kept in provenance
    assert both_catalog.sources[replaced[-1][0]].kind == "upstream"


@pytest.mark.parametrize(
    "spec",
    [
        "openrouter:meta-llama/llama-3.3-70b-instruct:free",
        "opencode:glm-4.7-free",
        "ollama:codellama",
        "lmstudio:openai/gpt-oss-20b",
    ],
)
def test_free_where_a_source_says_so(both_catalog: BuiltCatalog, spec: str) -> None:
    cost = both_catalog.models[spec].cost
    assert cost is not None and cost.input == 0 and cost.output == 0


def test_a_zero_above_a_price_is_no_price(both_catalog: BuiltCatalog) -> None:
    spec = "vercel:meta/llama-3.3-70b"  # models.dev 0/0, LiteLLM 0.72/0.72
    cost = both_catalog.models[spec].cost
    assert cost is not None and cost.input == 0.72 and cost.output == 0.72
    index, _, replaced = both_catalog.model_sources[spec]["cost.input"]
    assert both_catalog.sources[index].name == "litellm"
    assert (both_catalog.sources[replaced[-1][0]].name, replaced[-1][1]) == ("models.dev", 0)


def test_cache_zeros(both_catalog: BuiltCatalog) -> None:
    for spec in ("deepseek:deepseek-v4-flash", "zai:glm-4.5", "vercel:openai/gpt-4o"):  # implicit caching
        cost = both_catalog.models[spec].cost
        assert cost is not None and cost.input and cost.cache_write == cost.input, spec
    gpt35 = both_catalog.models["openai:gpt-3.5-turbo"].cost
    assert gpt35 is not None and gpt35.input and gpt35.cache_read is None  # models.dev's 0: no cache price
    minimax = both_catalog.models["inceptron:MiniMaxAI/MiniMax-M2.5"].cost  # MiniMax prices writes: 0 is a gap
    assert minimax is not None and minimax.input and minimax.cache_write is None
    for model in both_catalog.models.values():
        cost = model.cost
        if cost is not None and cost.input:
            assert cost.cache_read != 0 and cost.cache_write != 0, model.spec


def layer(name: str, kind: str, provider: str, model: str, cost: dict[str, Any]) -> Layer:
    return Layer(
        info=SourceInfo(name=name, kind=kind),
        fragments=[Fragment(provider=provider, model=model, data={"cost": cost}, full=True)],
    )


def test_a_patch_zero_is_its_word() -> None:
    built = build(
        [
            layer("up", "upstream", "acme", "m", {"input": 0, "output": 0}),
            layer("up", "upstream", "acme", "n", {"input": 0, "output": 0}),
            layer("patch:free.json", "patch", "acme", "m", {"input": 0}),
        ]
    )
    kept = built.models["acme:m"].cost
    assert kept is not None and kept.input == 0 and kept.output == 0
    assert built.models["acme:n"].cost is None  # the upstream's 0 alone: unknown


def test_a_free_model_keeps_every_zero_and_a_patched_price_is_no_free() -> None:
    local = build([layer("up", "upstream", "ollama", "m", {"input": 0, "output": 0, "cache_read": 0.1})])
    kept = local.models["ollama:m"].cost
    assert kept is not None and (kept.input, kept.output) == (0, 0)  # local: its zeros stand, all of them
    built = build(
        [
            layer("low", "upstream", "acme", "m", {"input": 3.0, "output": 15.0}),
            layer("high", "upstream", "acme", "m", {"input": 0, "output": 0}),
            layer("patch:p.json", "patch", "acme", "m", {"output": 15.0}),
        ]
    )
    cost = built.models["acme:m"].cost
    assert cost is not None and (cost.input, cost.output) == (3.0, 15.0)  # a positive patch price says no "free"


def test_cost_and_order_by_on_the_packaged_catalog() -> None:
    with pytest.raises(llmdb.PriceUnknown):
        llmdb.cost("gitlab:duo-chat-gpt-5-1", input_tokens=1000, output_tokens=100)
    assert llmdb.cost("ollama:codellama", input_tokens=1000, output_tokens=100).total == 0
    ordered = llmdb.models(order_by="cost")
    priced = [m.cost is not None and m.cost.input is not None for m in ordered]
    assert True in priced and False in priced
    assert priced == sorted(priced, reverse=True)  # every unknown after every priced model
    assert not any("plan" in m.provider or m.provider == "gitlab" for m in ordered[:200])


def test_the_cli_says_unknown() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "llmdb", "cost", "gitlab:duo-chat-gpt-5-1", "--input-tokens", "1000"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "gitlab:duo-chat-gpt-5-1 has no price" in run.stderr
