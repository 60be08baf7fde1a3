"""One model across its hosts (`llmdbd/engine/hosts.py`, docs/hosts.md): each model's identity from its id, checked
against models.dev's own `base_model` links; `hosts()`, `models(same_as=)` and `llmdb hosts` on ten popular models,
each host's price and context checked against the upstream file that gives it; benchmarks shared by identity."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from catalogs import LITELLM

import llmdb
from llmdb import Catalog
from llmdb.schema import canonical_provider_id
from llmdbd.engine.catalog import BuiltCatalog
from llmdbd.engine.enrich import base_id
from llmdbd.engine.hosts import identity, spelled

SHARED = Path(__file__).resolve().parents[2] / "shared" / "upstream"
TREE = SHARED / "models.dev" / "providers-toml.tar.gz"


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("claude-sonnet-4-5", "anthropic/claude-sonnet-4.5"),
        ("claude-sonnet-4-5-20250929", "anthropic/claude-sonnet-4.5"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic/claude-sonnet-4.5"),
        ("claude-sonnet-4-5@20250929", "anthropic/claude-sonnet-4.5"),
        ("anthropic/claude-sonnet-4.5", "anthropic/claude-sonnet-4.5"),
        ("anthropic.claude-opus-4-6-v1", "anthropic/claude-opus-4.6"),
        ("gpt-4o-2024-08-06", "openai/gpt-4o"),
        ("openai.gpt-oss-120b-1:0", "openai/gpt-oss-120b"),
        ("zai-org/GLM-5.1-FP8", "zhipuai/glm-5.1"),
        ("moonshotai/Kimi-K2.6-TEE", "moonshotai/kimi-k2.6"),
        ("cohere-command-r-08-2024", "cohere/command-r"),
        ("Qwen/Qwen3.5-27B", "alibaba/qwen3.5-27b"),
        ("gemma-3-27b-it", "google/gemma-3-27b-it"),  # 27b is a size, not a version
        ("deepseek/deepseek-r1:free", "deepseek/deepseek-r1"),
        ("meta-llama/Llama-3.3-70B-Instruct", "meta-llama/llama-3.3-70b-instruct"),  # a Hugging Face repo id
        ("accounts/fireworks/models/llama-v3p3-70b-instruct", None),  # no maker, no repo id
        ("nvidia.nemotron-nano-9b-v2", None),
    ],
)
def test_identity(model_id: str, expected: str | None) -> None:
    assert identity(model_id, base_id(model_id)) == expected


def base_models() -> dict[str, str]:
    """models.dev's `base_model` links from its TOML tree: spec → `lab/model`."""
    links: dict[str, str] = {}
    with tarfile.open(TREE) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if len(parts) < 4 or parts[0] != "providers" or parts[2] != "models" or not member.isfile():
                continue
            f = tar.extractfile(member)
            assert f is not None
            doc = tomllib.loads(f.read().decode())
            if "base_model" in doc:
                links[f"{canonical_provider_id(parts[1])}:{'/'.join(parts[3:]).removesuffix('.toml')}"] = doc[
                    "base_model"
                ]
    return links


def test_identities_against_models_dev_base_models(both_catalog: BuiltCatalog) -> None:
    """models.dev's 1,347 links against llmdb's identities: the same model (`same`; `repo` where llmdb names it by
    its Hugging Face repo, `meta-llama/…`, and models.dev by its lab, `meta/…`), none made (no maker or repo id
    the id names for certain: NVIDIA on Bedrock, Workers AI's `@cf/…`), or another model, where models.dev folds a
    host's variant into the base model (a distill, `-lightning`, `-turbo`, a misspelled id)."""
    links = base_models()
    assert len(links) == 1347
    counts: Counter[str] = Counter()
    for spec, base in links.items():
        ours = both_catalog.models[spec].identity
        lab, name = base.split("/", 1)
        want = identity(name, base_id(name))
        if ours is None:
            counts["none"] += 1
        elif want is not None and ours == f"{lab}/{want.split('/', 1)[1]}":
            counts["same"] += 1
        elif want is None and ours.split("/", 1)[1] == spelled(base_id(name)):
            counts["repo"] += 1
        else:
            counts["differ"] += 1
    assert counts == {"same": 1125, "repo": 63, "none": 90, "differ": 69}, counts


def test_counts_on_the_shared_files(both_catalog: BuiltCatalog) -> None:
    identities = Counter(m.identity for m in both_catalog.models.values())
    without = identities.pop(None)
    assert (len(both_catalog.models), without, len(identities)) == (9206, 1605, 1994)
    assert sum(1 for n in identities.values() if n > 1) == 775
    shared = [m for m in both_catalog.models.values() if m.benchmarks is not None and m.benchmarks.via]
    assert len(shared) == 2291
    for model in shared:
        source = both_catalog.models[model.benchmarks.via]  # type: ignore[union-attr]
        assert source.identity == model.identity and source.benchmarks is not None
        assert (source.benchmarks.intelligence, source.benchmarks.source) == (
            model.benchmarks.intelligence,  # type: ignore[union-attr]
            model.benchmarks.source,  # type: ignore[union-attr]
        )


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return {
        "models.dev": json.loads((SHARED / "models.dev" / "api.json").read_bytes()),
        "litellm": json.loads(LITELLM.read_bytes()),
        "openrouter": {m["id"]: m for m in json.loads((SHARED / "openrouter" / "models.json").read_bytes())["data"]},
    }


def upstream(raw: dict[str, Any], where: tuple[str, ...]) -> tuple[float, int | None]:
    """(input USD per 1M, context) of one entry of an upstream file, read as that file writes it."""
    kind, *key = where
    if kind == "models.dev":
        entry = raw["models.dev"][key[0]]["models"][key[1]]
        return entry["cost"]["input"], entry["limit"]["context"]
    if kind == "litellm":
        entry = raw["litellm"][key[0]]
        return round(entry["input_cost_per_token"] * 1e6, 9), entry.get("max_input_tokens")
    entry = raw["openrouter"][key[0]]
    return round(float(entry["pricing"]["prompt"]) * 1e6, 9), entry["context_length"]


GLOBAL_SONNET = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
POPULAR: list[tuple[str, str, list[tuple[str, tuple[str, ...]]]]] = [
    # (name, identity, [(host spec, the upstream entry that gives its price and context)])
    (
        "claude-sonnet-4-5",
        "anthropic/claude-sonnet-4.5",
        [
            (
                "amazon_bedrock:global.anthropic.claude-sonnet-4-5-20250929-v1:0",
                ("litellm", "global.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            ),
            ("google_vertex:claude-sonnet-4-5@20250929", ("models.dev", "google-vertex", "claude-sonnet-4-5@20250929")),
            ("openrouter:anthropic/claude-sonnet-4.5", ("models.dev", "openrouter", "anthropic/claude-sonnet-4.5")),
        ],
    ),
    (
        "gpt-4o",
        "openai/gpt-4o",
        [
            ("openai:gpt-4o", ("models.dev", "openai", "gpt-4o")),
            ("azure:gpt-4o", ("models.dev", "azure", "gpt-4o")),
        ],
    ),
    (
        "gpt-4.1",
        "openai/gpt-4.1",
        [
            ("openai:gpt-4.1", ("models.dev", "openai", "gpt-4.1")),
            ("openrouter:openai/gpt-4.1", ("models.dev", "openrouter", "openai/gpt-4.1")),
        ],
    ),
    (
        "gemini-2.5-pro",
        "google/gemini-2.5-pro",
        [
            ("google:gemini-2.5-pro", ("models.dev", "google", "gemini-2.5-pro")),
            ("openrouter:google/gemini-2.5-pro", ("models.dev", "openrouter", "google/gemini-2.5-pro")),
        ],
    ),
    (
        "gemini-2.5-flash",
        "google/gemini-2.5-flash",
        [
            ("google:gemini-2.5-flash", ("models.dev", "google", "gemini-2.5-flash")),
            ("openrouter:google/gemini-2.5-flash", ("models.dev", "openrouter", "google/gemini-2.5-flash")),
        ],
    ),
    (
        "claude-haiku-4-5",
        "anthropic/claude-haiku-4.5",
        [
            ("anthropic:claude-haiku-4-5", ("models.dev", "anthropic", "claude-haiku-4-5")),
            ("azure:claude-haiku-4-5", ("models.dev", "azure", "claude-haiku-4-5")),
            ("google_vertex:claude-haiku-4-5@20251001", ("models.dev", "google-vertex", "claude-haiku-4-5@20251001")),
        ],
    ),
    (
        "o3",
        "openai/o3",
        [
            ("openai:o3", ("models.dev", "openai", "o3")),
            ("openrouter:openai/o3", ("models.dev", "openrouter", "openai/o3")),
        ],
    ),
    (
        "kimi-k2.6",
        "moonshotai/kimi-k2.6",
        [
            ("moonshotai:kimi-k2.6", ("models.dev", "moonshotai", "kimi-k2.6")),
            ("openrouter:moonshotai/kimi-k2.6", ("models.dev", "openrouter", "moonshotai/kimi-k2.6")),
        ],
    ),
    (
        "glm-5.1",
        "zhipuai/glm-5.1",
        [
            ("zai:glm-5.1", ("models.dev", "zai", "glm-5.1")),
            ("openrouter:z-ai/glm-5.1", ("models.dev", "openrouter", "z-ai/glm-5.1")),
        ],
    ),
    (
        "deepseek-v4-flash",
        "deepseek/deepseek-v4-flash",
        [
            ("deepseek:deepseek-v4-flash", ("models.dev", "deepseek", "deepseek-v4-flash")),
            ("openrouter:deepseek/deepseek-v4-flash", ("models.dev", "openrouter", "deepseek/deepseek-v4-flash")),
        ],
    ),
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(llmdb.packaged_path())


@pytest.mark.parametrize(("name", "ident", "expected"), POPULAR, ids=[p[0] for p in POPULAR])
def test_hosts_of_popular_models(
    catalog: Catalog, raw: dict[str, Any], name: str, ident: str, expected: list[tuple[str, tuple[str, ...]]]
) -> None:
    found = catalog.hosts(name)
    assert catalog.get(name).identity == ident
    assert len({m.provider for m in found}) >= 2
    assert all(m.identity == ident and not m.deprecated for m in found)
    prices = [m.cost.input for m in found if m.cost is not None and m.cost.input is not None]
    assert prices == sorted(prices)  # cheapest first; unpriced hosts last
    by_spec = {m.spec: m for m in found}
    for spec, where in expected:
        model = by_spec[spec]
        price, context = upstream(raw, where)
        assert model.cost is not None and model.cost.input == pytest.approx(price), (spec, where)
        assert model.limits.context == context, (spec, where)
    assert [m.spec for m in catalog.models(same_as=name, order_by="cost")] == [m.spec for m in found]


def test_deprecated_hosts_when_asked(catalog: Catalog) -> None:
    """Anthropic's own claude-sonnet-4-5 is deprecated since 2026-11-30 (LiteLLM's date): left out unless asked."""
    assert "anthropic:claude-sonnet-4-5" not in {m.spec for m in catalog.hosts("claude-sonnet-4-5")}
    every = {m.spec: m for m in catalog.hosts("claude-sonnet-4-5", include_deprecated=True)}
    assert every["anthropic:claude-sonnet-4-5"].status == "deprecated"


def test_a_model_without_identity_is_its_own_host(catalog: Catalog) -> None:
    spec = "groq:llama-3.3-70b-versatile"
    assert catalog.get(spec).identity is None
    assert [m.spec for m in catalog.hosts(spec)] == [spec]


def test_benchmarks_reach_the_maker(catalog: Catalog) -> None:
    model = catalog.get("anthropic:claude-sonnet-4-5")
    assert model.benchmarks is not None and model.benchmarks.via == "openrouter:anthropic/claude-sonnet-4.5"
    listed = catalog.get("openrouter:anthropic/claude-sonnet-4.5").benchmarks
    assert listed is not None and listed.via is None and listed.coding == model.benchmarks.coding
    provenance = catalog.explain("anthropic:claude-sonnet-4-5")
    assert provenance["benchmarks.coding"].source == "enrich"


def test_cheapest_good_enough_with_a_trace(catalog: Catalog) -> None:
    chosen = catalog.select(require=["tools"], min_coding=60, order_by="cost")
    model = chosen.model
    assert model.benchmarks is not None and model.benchmarks.coding is not None and model.benchmarks.coding >= 60
    cheaper = [
        m
        for m in catalog.models(require=["tools"], min_coding=60)
        if m.cost is not None
        and m.cost.input is not None
        and model.cost is not None
        and model.cost.input is not None
        and m.cost.input < model.cost.input
    ]
    assert cheaper == []
    (step,) = chosen.trace
    assert step.rejected_by["coding >= 60"] > 1000  # why the others lost


def test_cli_hosts() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "llmdb", "hosts", "claude-sonnet-4.5"], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split()[:3] == ["provider", "id", "context"]
    assert any(line.split()[:2] == ["google_vertex", "claude-sonnet-4-5@20250929"] for line in lines)
    assert lines[-1].endswith("anthropic/claude-sonnet-4.5 on 30 provider(s)")
    as_json = subprocess.run(
        [sys.executable, "-m", "llmdb", "hosts", "claude-sonnet-4.5", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert {m["identity"] for m in json.loads(as_json.stdout)} == {"anthropic/claude-sonnet-4.5"}


def test_compare_across_hosts() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "llmdb", *args], capture_output=True, text=True, timeout=60)

    cheapest = [m.spec for m in llmdb.hosts("claude-sonnet-4.5")[:3]]
    out = run("compare", "claude-sonnet-4.5", "--hosts", "3", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["specs"] == cheapest
    two = run("compare", "gpt-4o", "o3", "--hosts")
    assert two.returncode == 2 and "takes one model name" in two.stderr and "Traceback" not in two.stderr


def test_compare_hosts_of_a_model_with_none_active() -> None:
    spec = next(m.spec for m in llmdb.models(include_deprecated=True) if m.deprecated and m.identity is None)
    out = subprocess.run(
        [sys.executable, "-m", "llmdb", "compare", spec, "--hosts"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2 and "no active host of" in out.stderr and "Traceback" not in out.stderr
    zero = subprocess.run(
        [sys.executable, "-m", "llmdb", "compare", "gpt-4o", "--hosts", "0"], capture_output=True, text=True, timeout=60
    )
    assert zero.returncode == 2 and "expected a whole number >= 1" in zero.stderr
