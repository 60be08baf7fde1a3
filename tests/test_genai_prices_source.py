"""genai-prices as a price source: its rules read from the real file in ../shared, placed on the models the other
upstreams define (never a guess: an entry that matches nothing is a warning naming it), so that `check
--conflicts` shows a third opinion on the cases the issue names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from catalogs import LITELLM

from llmdbd import inputs
from llmdbd.config import Config
from llmdbd.engine import conflicts
from llmdbd.sources import genai_prices
from llmdbd.sources.upstreams import kind_of

SHARED = Path(__file__).resolve().parents[2] / "shared" / "upstream"
DATA = SHARED / "genai-prices" / "v2" / "data.json"
API = SHARED / "models.dev" / "api.json"


@pytest.mark.parametrize(
    ("clause", "name", "expected"),
    [
        ({"equals": "GPT-4o"}, "gpt-4o", True),
        ({"starts_with": "claude-opus-4-6"}, "claude-opus-4-6-20260101", True),
        ({"contains": "au.anthropic.claude-opus-4-6"}, "au.anthropic.claude-opus-4-6-v1", True),
        ({"ends_with": "-latest"}, "gemini-flash-latest", True),
        ({"regex": "^o[0-9]"}, "o3-mini", True),
        ({"regex": "^O[0-9]"}, "o3-mini", False),  # regex keeps case, as genai-prices does
        ({"or": [{"equals": "a"}, {"equals": "b"}]}, "b", True),
        ({"and": [{"starts_with": "gpt"}, {"contains": "mini"}]}, "gpt-4o", False),
        ({"regex": "("}, "x", False),  # a broken pattern matches nothing
        ({"unknown": "x"}, "x", False),
    ],
)
def test_rules_match_as_genai_prices_does(clause: object, name: str, expected: bool) -> None:
    assert genai_prices.matches(clause, name) is expected


def test_the_file_is_read_into_rules_with_current_prices() -> None:
    assert kind_of(DATA) == "genai-prices"
    layer = genai_prices.load_path(DATA)
    assert layer.issues == [] and layer.fragments == []
    providers = json.loads(DATA.read_bytes())
    own = sum(len(p["models"]) for p in providers)
    assert len([r for r in layer.rules if not r.fallback]) >= own  # google's rules price two llmdb providers
    opus = next(r for r in layer.rules if r.entry == "anthropic/claude-opus-4-6" and r.provider == "anthropic")
    assert opus.data["cost"]["input"] == 5 and "tiers" not in opus.data["cost"]  # the 2026-03-13 price is in force
    chat = next(r for r in layer.rules if r.entry == "deepseek/deepseek-chat")
    assert chat.data["extra"]["genai_prices_conditional"]  # off-peak hours: kept, not a price
    searches = next(r for r in layer.rules if "web_search" in r.data.get("cost", {}).get("per_unit", {}))
    assert searches.data["cost"]["per_unit"]["web_search"] == pytest.approx(0.01)  # USD per 1,000 → per search


@pytest.fixture(scope="module")
def four() -> object:
    files = {"models.dev": str(API), "litellm": str(LITELLM), "genai-prices": str(DATA)}
    return inputs.catalog(Config(patch_dirs=[]).with_inputs(files, [], None), None)


def test_prices_are_placed_on_the_other_upstreams_models(four: object) -> None:
    built = four
    assert not built.report.errors  # type: ignore[attr-defined]
    found = conflicts.conflicts(built)  # type: ignore[arg-type]
    by = {(c.spec, c.field): c.values for c in found}
    assert by[("amazon_bedrock:au.anthropic.claude-opus-4-6-v1", "cost.input")] == {
        "models.dev": 16.5,
        "litellm": 5.5,
        "genai-prices": 5.5,
    }
    assert by[("azure:gpt-5", "cost.cache_read")]["genai-prices"] == 0.125  # through Azure's fallback to OpenAI
    assert by[("azure:gpt-5-nano", "cost.cache_read")]["genai-prices"] == 0.005


def test_an_entry_that_matches_nothing_is_a_warning_never_a_guess(four: object) -> None:
    issues = [i for i in four.report.issues if i.source == "genai-prices"]  # type: ignore[attr-defined]
    assert issues and all(i.severity == "warning" and i.stage == "place" for i in issues)
    assert any(i.message == "anthropic/claude-2 matches no anthropic model; not placed" for i in issues)
    models = four.models  # type: ignore[attr-defined]
    assert not any(spec.startswith("avian:") for spec in models)  # a provider no other upstream has: no models


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'{"id": "x"}', "expected a list of providers, got dict"),
        (b'[{"id": "x"}]', "provider is not an object with an `id` and a list of `models`"),
        (b'[{"id": "x", "models": [{"id": "m"}]}]', "model is not an object with an `id` and a `match`"),
    ],
)
def test_a_file_of_the_wrong_shape_says_where(body: bytes, said: str) -> None:
    layer = genai_prices.load_bytes(body)
    assert [i.message for i in layer.issues] == [said] and layer.rules == []


def test_a_bad_price_is_refused_naming_the_field(tmp_path: Path) -> None:
    providers = json.loads(DATA.read_bytes())
    openai = next(p for p in providers if p["id"] == "openai")
    entry = next(m for m in openai["models"] if m["id"] == "gpt-4o")
    entry["prices"] = {"input_mtok": -2.5, "output_mtok": "ten"}
    bad = tmp_path / "data.json"
    bad.write_text(json.dumps(providers))
    files = {"models.dev": str(API), "genai-prices": str(bad)}
    built = inputs.catalog(Config(patch_dirs=[]).with_inputs(files, [], None), None)
    said = [i for i in built.report.issues if i.source == "genai-prices" and i.model == "gpt-4o"]
    assert {i.field for i in said} >= {"cost.input", "cost.output"}, said
    assert built.models["openai:gpt-4o"].cost.input == 2.5  # models.dev's, untouched  # type: ignore[union-attr]


def test_four_upstreams_build_to_one_content_hash_whatever_the_hash_seed(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    files = ["models.dev=" + str(API), "litellm=" + str(LITELLM), "genai-prices=" + str(DATA)]
    flags = [arg for f in files for arg in ("--upstream", f)]
    hashes = set()
    for seed in ("1", "2"):
        out = tmp_path / f"{seed}.llmdb"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-m", "llmdbd", "build", *flags, "--output", str(out)], env=env, capture_output=True
        )
        assert done.returncode == 0
        from llmdb import Snapshot

        hashes.add(Snapshot(out).content_hash)
    assert len(hashes) == 1


def test_a_fetched_body_is_accepted_counting_its_entries() -> None:
    from llmdbd.daemon.upstream import accept, entries
    from llmdbd.errors import FetchError

    layer = accept("genai-prices", DATA.read_bytes(), 0, 0.5, "http://127.0.0.1/data.json")
    assert entries(layer) == len(layer.rules) > 1000
    with pytest.raises(FetchError, match="fewer"):  # the shrink check counts entries too
        accept("genai-prices", DATA.read_bytes(), entries(layer) * 3, 0.5, "http://127.0.0.1/data.json")


def test_genai_prices_alone_builds_from_the_packaged_catalog() -> None:
    built = inputs.catalog(Config(patch_dirs=[]).with_inputs({"genai-prices": str(DATA)}, [], None), None)
    assert len(built.models) > 9000 and "openai:gpt-4o" in built.models


def test_a_dated_price_is_read_as_of_a_day() -> None:
    """Sonnet 5's introductory $2 / $10 ended on 2026-09-01 (genai-prices dates it; Anthropic's announcement
    says the same): read on the eve it is the undated price, from that day the dated one, with what it replaced."""

    def sonnet(day: str) -> genai_prices.Rule:
        rules = genai_prices.load_path(DATA, as_of=day).rules
        return next(r for r in rules if r.entry == "anthropic/claude-sonnet-5" and r.provider == "anthropic")

    eve, day = sonnet("2026-08-31"), sonnet("2026-09-01")
    assert (eve.data["cost"]["input"], eve.since) == (2, None)
    assert (day.data["cost"]["input"], day.data["cost"]["output"], day.since) == (3, 15, "2026-09-01")
    assert day.replaced["input"] == 2 and day.replaced["output"] == 10
    assert "2026-09-01" in genai_prices.dates(genai_prices.load_path(DATA))


def test_a_dated_price_overrules_an_upstream_still_at_the_price_it_replaced(four: object) -> None:
    """models.dev and LiteLLM (2026-11-12) still give Sonnet 5's introductory price: genai-prices' dated one
    serves, the overruled value stays in the provenance, and a warning says since when."""
    built = four
    model = built.models["anthropic:claude-sonnet-5"]  # type: ignore[attr-defined]
    assert (model.cost.input, model.cost.output, model.cost.cache_read) == (3, 15, 0.3)
    source, _, replaced = built.model_sources["anthropic:claude-sonnet-5"]["cost.input"]  # type: ignore[attr-defined]
    assert built.sources[source].name == "genai-prices"  # type: ignore[attr-defined]
    assert 2 in [value for _, value in replaced]
    said = [
        i.message
        for i in built.report.issues  # type: ignore[attr-defined]
        if i.stage == "agree" and i.model == "claude-sonnet-5" and i.field == "cost.input" and i.provider == "anthropic"
    ]
    assert said == ["cost.input 2 overruled: genai-prices bills 3 since 2026-09-01, replacing 2"]
    # a price the upstreams give that is not the one genai-prices says was replaced stays: gpt-4o is undated
    assert built.models["openai:gpt-4o"].cost.input == 2.5  # type: ignore[attr-defined]


@pytest.mark.slow
def test_history_import_records_a_dated_price_on_its_day_and_cost_at_uses_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    import llmdb

    def llmdbd(*args: str) -> None:
        out = subprocess.run([sys.executable, "-m", "llmdbd", *args], capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr

    snapshot = tmp_path / "catalog.llmdb"
    dated = (f"{API}@2026-07-01", f"{DATA}@2026-08-21", f"{LITELLM}@2026-11-12")  # LiteLLM: still the old price
    llmdbd("history", "import", *dated, "--output", str(tmp_path / "history.sqlite3"))
    files = (
        "--upstream",
        f"models.dev={API}",
        "--upstream",
        f"genai-prices={DATA}",
        "--upstream",
        f"litellm={LITELLM}",
    )
    llmdbd("build", *files, "--as-of", "2026-12-07", "--output", str(snapshot))
    catalog = llmdb.Catalog(snapshot)
    spec = "anthropic:claude-sonnet-5"
    changes = [(c.at[:10], c.old, c.new) for c in catalog.history(spec, "cost.input")]
    assert ("2026-09-01", 2.0, 3.0) in changes
    assert catalog.cost(spec, input_tokens=1_000_000, at="2026-08-15").total == 2.0
    assert catalog.cost(spec, input_tokens=1_000_000, at="2026-10-01").total == 3.0
    assert catalog.cost(spec, input_tokens=1_000_000).total == 3.0
