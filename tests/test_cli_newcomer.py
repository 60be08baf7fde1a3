"""The `llmdb` command as a newcomer meets it: the card, `compare`, one-line errors with one exit-code rule,
names typed loosely, and what one reaches for first (`--version`, `select` with `list`'s filters, `verify`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import llmdb
from llmdb import _render, cli
from llmdb._snapshot import Snapshot

PACKAGED = llmdb.packaged_path()
README = Path(__file__).resolve().parent.parent / "README.md"


def run(*args: str, snapshot: Path | None = PACKAGED) -> subprocess.CompletedProcess[str]:
    where = ["--snapshot", str(snapshot)] if snapshot is not None else []
    return subprocess.run(
        [sys.executable, "-m", "llmdb.cli", *where, *args], capture_output=True, text=True, timeout=60
    )


def one_line_error(out: subprocess.CompletedProcess[str]) -> str:
    """The stderr of a failed command, checked to be one line and no traceback."""
    assert "Traceback" not in out.stderr
    assert out.stderr.endswith("\n") and out.stderr.count("\n") == 1, out.stderr
    return out.stderr


# -- the card ------------------------------------------------------------------------------------------------------


def test_card_of_a_model_without_output_price_shows_a_dash_not_none() -> None:
    out = run("get", "azure:eu/text-embedding-3-large")
    assert out.returncode == 0
    assert "None" not in out.stdout and "$0.143 in / - out" in out.stdout
    assert "reasoning budget" not in out.stdout  # the model does not reason
    lines = dict(re.split(r"\s{2,}|(?<=budget) ", line.strip(), maxsplit=1) for line in out.stdout.splitlines())
    assert lines["name"] == "-" and lines["released"] == "-"


def test_no_card_of_the_packaged_catalog_shows_none_or_an_empty_value() -> None:
    snap = Snapshot(PACKAGED)
    cards = 0
    for spec in snap.specs:
        model = snap.model(spec)
        assert model is not None
        card = _render.model_card(model, None)
        assert "None" not in card, card
        assert all(len(line) > 17 for line in card.splitlines()), card  # every value shown, `-` when unknown
        cards += 1
    assert cards == snap.model_count


def test_card_shows_cache_context_tier_and_service_tier_prices() -> None:
    gemini = json.loads(run("get", "google:gemini-2.5-pro", "--json").stdout)["cost"]
    card = run("get", "google:gemini-2.5-pro").stdout
    tier = gemini["tiers"][0]
    assert f"cache read ${gemini['cache_read']:g}" in card
    assert f"above {tier['above']} tokens: ${tier['input']:g} in / ${tier['output']:g} out" in card
    assert f"batch price      ${gemini['batch']['input']:g} in" in card
    claude = json.loads(run("get", "anthropic:claude-sonnet-4-5", "--json").stdout)
    card = run("get", "anthropic:claude-sonnet-4-5").stdout
    assert f"cache write ${claude['cost']['cache_write']:g}" in card
    budget = claude["capabilities"]["reasoning"]
    assert f"reasoning budget {budget['token_budget_min']}..-" in card and budget["token_budget_max"] is None


def test_card_lifecycle_is_a_dash_when_the_provider_gave_no_dates() -> None:
    model = json.loads(run("get", "openai:gpt-4o", "--json").stdout)
    assert not any(model["lifecycle"].values())
    assert re.search(r"^lifecycle\s+-$", run("get", "openai:gpt-4o").stdout, re.MULTILINE)


# -- compare -------------------------------------------------------------------------------------------------------


def _order_only_pair() -> tuple[str, str]:
    """Two models whose input modalities are the same set in another order."""
    first: dict[tuple[str, ...], llmdb.Model] = {}
    for model in llmdb.Catalog(PACKAGED).models():
        key = tuple(sorted(model.modalities.input))
        other = first.setdefault(key, model)
        if other.modalities.input != model.modalities.input:
            return other.spec, model.spec
    raise AssertionError("no two models list the same input modalities in another order")


def test_compare_does_not_report_an_order_only_modality_difference() -> None:
    a, b = _order_only_pair()
    data = json.loads(run("compare", a, b, "--json").stdout)
    left, right = data["fields"]["modalities.input"]
    assert left != right and sorted(left) == sorted(right)
    assert "modalities.input" not in data["differs"]


def test_compare_differences_json_holds_only_the_differing_fields() -> None:
    full = json.loads(run("compare", "openai:gpt-5", "anthropic:claude-sonnet-4-6", "--json").stdout)
    out = run("compare", "openai:gpt-5", "anthropic:claude-sonnet-4-6", "--differences", "--json")
    only = json.loads(out.stdout)
    assert out.returncode == 0 and only["differs"] == full["differs"]
    assert list(only["fields"]) == full["differs"] and len(only["fields"]) < len(full["fields"])
    assert all(only["fields"][p] == full["fields"][p] for p in only["fields"])
    table = run("compare", "openai:gpt-5", "anthropic:claude-sonnet-4-6", "--differences").stdout
    assert "status " not in table and f"{len(full['differs'])} of {len(full['fields'])} field(s) differ" in table


def test_python_compare_differences_keeps_only_differing_fields() -> None:
    found = llmdb.Catalog(PACKAGED).compare("openai:gpt-4o", "openai:gpt-4o-mini", differences=True)
    assert found.fields and set(found.fields) == set(found.differs)


# -- errors: one line, one exit-code rule --------------------------------------------------------------------------


def test_a_directory_as_snapshot_says_it_is_a_directory(tmp_path: Path) -> None:
    out = run("get", "openai:gpt-4o", snapshot=tmp_path)
    assert out.returncode == 3 and "is a directory" in one_line_error(out) and "Invalid argument" not in out.stderr
    verify = run("verify", str(tmp_path), snapshot=None)
    assert verify.returncode == 3 and "is a directory" in one_line_error(verify)


def test_a_write_error_is_one_line_and_exit_4() -> None:
    with open("/dev/full", "w") as full:
        out = subprocess.run(
            [sys.executable, "-m", "llmdb.cli", "--snapshot", str(PACKAGED), "list"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert out.returncode == cli.WRITE_FAILED == 4
    assert "cannot write the output: No space left on device" in one_line_error(out)


def test_a_large_output_through_a_pipe_is_written_whole_or_exits_141() -> None:
    whole = subprocess.run(
        f"{sys.executable} -m llmdb.cli --snapshot {PACKAGED} list --include-deprecated --json | cat",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert whole.returncode == 0 and len(json.loads(whole.stdout)) > 8000
    cut = subprocess.run(
        f"{sys.executable} -m llmdb.cli --snapshot {PACKAGED} list --include-deprecated | head -1;"
        " exit ${PIPESTATUS[0]}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cut.returncode == 141 and cut.stderr == "" and cut.stdout.startswith("spec ")


def test_a_very_long_name_is_invalid_and_cut_in_the_message() -> None:
    out = run("get", "x" * 100_000)
    assert out.returncode == 2 and len(one_line_error(out)) < 300 and "100000 characters" in out.stderr
    with pytest.raises(llmdb.InvalidSpec, match="no name is longer than 256"):
        llmdb.Catalog(PACKAGED).get("gpt-4o" * 50)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("get", ":"), "nothing before or after ':'"),
        (("get", "@"), "nothing before or after '@'"),
        (("get", "openai:"), "empty model id"),
        (("list", "--input", "smell"), "unknown input modality 'smell'; valid: text, image"),
        (("list", "--require", "input:smell"), "unknown input modality 'smell'; valid: text, image"),
        (("select", "--output", "smell"), "unknown output modality 'smell'"),
        (("list", "--require", "bogus"), "unknown feature 'bogus'"),
        (("changes", "--since", "2026-01-01", "--provider", "nope"), "unknown provider 'nope'"),
        (("list", "--provider", "nope"), "unknown provider 'nope'"),
        (("list", "--min-context", "-5"), "expected a whole number >= 0, not '-5'"),
        (("list", "--max-input-cost", "cheap"), "expected a number >= 0, not 'cheap'"),
        (("cost", "deepseek:deepseek-chat", "--input-tokens", "1000", "--at", "2030-01-01"), "in the future"),
        (("cost", "openai:gpt-4o", "--input-tokens", "1.5"), "invalid int value: '1.5'; see llmdb cost --help"),
        (("cost", "openai:gpt-4o", "--input-tokens", "9", "--service-tier", "turbo"), "choose from 'standard'"),
    ],
)
def test_input_that_cannot_mean_anything_exits_2_in_one_line(args: tuple[str, ...], message: str) -> None:
    out = run(*args)
    assert out.returncode == 2, out.stderr
    assert message in one_line_error(out) and "usage:" not in out.stderr and "in scope" not in out.stderr


def test_changes_of_a_known_provider_still_answers() -> None:
    out = run("changes", "--since", "2000-01-01", "--provider", "openai", "--json")
    assert out.returncode == 0 and all(e["spec"].startswith("openai") for e in json.loads(out.stdout))


def test_python_queries_refuse_negative_limits_and_unknown_modalities() -> None:
    catalog = llmdb.Catalog(PACKAGED)
    with pytest.raises(llmdb.InvalidQuery, match="min_context=-5"):
        catalog.models(min_context=-5)
    with pytest.raises(llmdb.InvalidQuery, match="unknown input modality 'smell'"):
        catalog.models(input="smell")
    with pytest.raises(llmdb.UnknownProvider, match="unknown provider 'nope'; did you mean") as info:
        catalog.models("nope")
    assert "in scope" not in str(info.value)
    assert len(catalog.models(input="image", min_context=0)) > 100


# -- names typed loosely -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [" gpt-4o ", "GPT-4O", "OpenAI:GPT-4o", "gpt-4o\t"])
def test_spaces_and_case_still_find_the_model(name: str) -> None:
    out = run("get", name, "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["spec"] == "openai:gpt-4o"


def test_resolve_names_the_case_rule_and_a_near_miss_suggests_ignoring_case() -> None:
    assert run("resolve", "GPT-4O").stdout.strip() == "openai:gpt-4o  (spelling)"  # a maker's id: its own rule
    upper = run("resolve", "US.ANTHROPIC.CLAUDE-3-5-SONNET-20241022-V2:0").stdout.strip()
    assert upper == "amazon_bedrock:us.anthropic.claude-3-5-sonnet-20241022-v2:0  (case)"
    assert run("resolve", "gpt-4o").stdout.strip() == "openai:gpt-4o  (maker)"  # the exact name: no fallback
    miss = run("get", "GPT-4OO")
    assert miss.returncode == 1 and "did you mean 'gpt-4o'" in one_line_error(miss)


# -- help and README -----------------------------------------------------------------------------------------------


def test_help_lists_every_exit_code_without_promising_141_for_a_short_pipe() -> None:
    text = run("--help", snapshot=None).stdout
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "141"):
        assert re.search(rf"^\s+{code}", text, re.MULTILINE), code
    assert "price unknown" in text and "ambiguous name" in text and "providers | head -1" not in text


def test_readme_exit_codes_and_cli_block_match_the_command() -> None:
    readme = README.read_text()
    codes = readme[readme.index("Exit codes:") :].split("`--snapshot PATH`")[0]
    assert "price unknown" in codes and "ambiguous name" in codes and "4 the output" in codes
    block = readme[readme.index("### CLI") : readme.index("Exit codes:")]
    for command in ("llmdb resolve", "llmdb verify", "llmdb --version", "llmdb select"):
        assert command in block, command
    commands = {line.split()[1] for line in block.splitlines() if line.startswith("llmdb ")} - {"--profile"}
    assert len(commands) > 10
    for command in commands:  # each one the command knows
        assert run(command, "--help", snapshot=None).returncode == 0, command


def test_readme_quick_tour_runs_as_pasted(tmp_path: Path) -> None:
    readme = README.read_text()
    start = readme.index("```python", readme.index("## Quick tour")) + len("```python")
    tour = tmp_path / "tour.py"
    tour.write_text(readme[start : readme.index("```", start)])
    out = subprocess.run([sys.executable, str(tour)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr


# -- what a newcomer reaches for first -----------------------------------------------------------------------------


def test_version_is_the_installed_distributions() -> None:
    out = run("--version", snapshot=None)
    assert out.returncode == 0 and out.stdout == f"llmdb {metadata.version('llmdbd')}\n"


def test_select_takes_lists_filters_and_traces_what_they_rejected() -> None:
    out = run("select", "--require", "tools", "--input", "audio", "--min-context", "1000000", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    model = data["model"]
    assert model["limits"]["context"] >= 1_000_000 and "audio" in model["modalities"]["input"]
    assert model["capabilities"]["tools"]["enabled"]
    rejected = data["trace"][-1]["rejected_by"]
    assert rejected["context >= 1000000"] > 0 and rejected["input:audio"] > 0
    none = run("select", "--mode", "embedding", "--min-context", "100000000")
    assert none.returncode == 1 and "no allowed model satisfies mode embedding, context >= 100000000" in none.stderr


def test_python_select_takes_the_same_filters() -> None:
    chosen = llmdb.Catalog(PACKAGED).select(require=["tools"], prefer=["anthropic"], min_context=500_000)
    assert chosen.model.provider == "anthropic" and (chosen.model.limits.context or 0) >= 500_000
    cheap = llmdb.Catalog(PACKAGED).select(mode="embedding", max_input_cost=0.05, prefer=["openai"])
    price = cheap.model.cost.input if cheap.model.cost is not None else None
    assert cheap.model.mode == "embedding" and price is not None and price <= 0.05


def _flip_record(source: Path, target: Path, spec: str) -> None:
    """`target`: `source` with one byte flipped inside `spec`'s record (section checksums kept)."""
    snap = Snapshot(source)
    ordinal = snap.ordinal(spec)
    assert ordinal is not None
    data = bytearray(source.read_bytes())
    data[snap.file.records + snap.lookup.offsets[ordinal] + 1] ^= 0x04
    target.write_bytes(bytes(data))


def test_verify_finds_a_flipped_byte_in_a_record_nobody_read(tmp_path: Path) -> None:
    good = tmp_path / "good.llmdb"
    shutil.copyfile(PACKAGED, good)
    ok = run("verify", str(good), snapshot=None)
    assert ok.returncode == 0 and ok.stdout.startswith(f"{good}: ok: epoch ")
    assert json.loads(run("verify", "--json", snapshot=good).stdout)["models"] == Snapshot(good).model_count
    bad = tmp_path / "bad.llmdb"
    _flip_record(good, bad, "azure:eu/text-embedding-3-large")
    assert run("get", "openai:gpt-4o", snapshot=bad).returncode == 0  # the lazy reader never reads that record
    out = run("verify", str(bad), snapshot=None)
    assert out.returncode == 3 and "azure:eu/text-embedding-3-large" in one_line_error(out)


def test_verify_path_reads_that_file_whatever_the_default_is(tmp_path: Path) -> None:
    packaged = Path(llmdb.__file__).parent / "catalog.llmdb"
    out = subprocess.run(
        [sys.executable, "-m", "llmdb", "verify", str(packaged)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LLMDB_SNAPSHOT": str(tmp_path)},  # a directory: not what verify was asked about
    )
    assert out.returncode == 0 and out.stdout.startswith(f"{packaged}: ok: epoch "), out.stderr
