"""What an operator sees from the client side: excluded and denied models, closed pipes, query mistakes,
build times, and `llmdbd check` reports, over a real catalog built from models.dev plus real patch files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from catalogs import API, API_MODELS

import llmdb
from llmdb import Catalog
from llmdbd import inputs
from llmdbd.engine import BuiltCatalog, Rules, build
from llmdbd.output.publish import write_snapshot
from llmdbd.sources import modelsdev, patches

EVERYWHERE = {"exclude": ["*:gpt-3.5-turbo"]}
"""A provider glob: `gpt-3.5-turbo` of every provider (models.dev has it under openai and llmgateway)."""
SCOPED = {"provider": {"id": "openai"}, "exclude": ["gpt-4-turbo"]}
"""A bare glob scoped by the patch's provider table."""
STALE = {"exclude": ["openai:gpt-9-*"]}
"""An exclude that matches nothing: a warning, not an error."""
RULES = Rules(deny={"groq": "*", "openai": ["gpt-4o"]})


class Built(NamedTuple):
    built: BuiltCatalog
    path: Path
    patches: Path


@pytest.fixture(scope="module")
def operator(tmp_path_factory: pytest.TempPathFactory) -> Built:
    tmp = tmp_path_factory.mktemp("operator")
    patch_dir = tmp / "patches"
    patch_dir.mkdir()
    for name, doc in (("everywhere.json", EVERYWHERE), ("scoped.json", SCOPED), ("stale.json", STALE)):
        (patch_dir / name).write_text(json.dumps(doc))
    built = build(inputs.layers([modelsdev.load_path(API)], patches.load_dirs([str(patch_dir)])), RULES)
    path = tmp / "catalog.llmdb"
    write_snapshot(built, path)
    return Built(built, path, patch_dir)


@pytest.fixture(scope="module")
def catalog(operator: Built) -> Catalog:
    return Catalog(operator.path)


def llmdb_cli(snapshot: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmdb.cli", "--snapshot", str(snapshot), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def llmdbd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "llmdbd", *args], capture_output=True, text=True, timeout=120)


def piped(command: str) -> subprocess.CompletedProcess[str]:
    """`command | …` through a real shell; the exit code is that of the pipeline's first command."""
    return subprocess.run(
        command + "; exit ${PIPESTATUS[0]}",
        shell=True,
        capture_output=True,
        text=True,
        executable="/bin/bash",
        timeout=120,
    )


# -- excluded models -------------------------------------------------------------------------------------------


def test_get_of_an_excluded_model_raises_model_excluded_naming_the_pattern_and_file(catalog: Catalog) -> None:
    with pytest.raises(llmdb.ModelExcluded) as info:
        catalog.get("openai:gpt-3.5-turbo")
    assert isinstance(info.value, llmdb.ModelNotFound) and isinstance(info.value, KeyError)
    assert "'*:gpt-3.5-turbo'" in info.value.reason and "everywhere.json" in info.value.reason
    assert "excluded" in str(info.value) and info.value.reason in str(info.value)
    with pytest.raises(llmdb.ModelExcluded) as scoped:
        catalog.get("gpt-4-turbo@openai")
    assert "'openai:gpt-4-turbo'" in scoped.value.reason and "scoped.json" in scoped.value.reason


def test_find_of_an_excluded_model_returns_none(catalog: Catalog) -> None:
    assert catalog.find("openai:gpt-3.5-turbo") is None
    assert catalog.find("llmgateway:gpt-3.5-turbo") is None
    assert catalog.find("openai:gpt-4-turbo") is None
    assert catalog.find("openai:gpt-4") is not None  # the exclude is exact, not a prefix


def test_a_provider_glob_exclude_removes_the_model_from_several_providers(operator: Built) -> None:
    excluded = operator.built.excluded
    everywhere = {spec for spec, reason in excluded.items() if "'*:gpt-3.5-turbo'" in reason}
    providers = {spec.split(":", 1)[0] for spec in everywhere}
    assert len(providers) > 1 and {"openai", "llmgateway"} <= providers
    assert all(spec.endswith(":gpt-3.5-turbo") for spec in everywhere)
    assert not everywhere & set(operator.built.models)
    assert not any(re.search(r"exclude '_:", reason) for reason in excluded.values())
    assert set(excluded) == everywhere | {"openai:gpt-4-turbo"}


def test_info_counts_excluded_and_denied_models(operator: Built, catalog: Catalog) -> None:
    info = catalog.info()
    groq = [s for s in catalog.snapshot.specs if s.startswith("groq:")]
    assert groq and info["denied"] == len(groq) + 1 == len(operator.built.denied)
    assert info["excluded"] == len(operator.built.excluded) == 3
    assert info["models"] == API_MODELS - 3


def test_cli_get_of_an_excluded_model_exits_1_naming_the_exclude_and_file(operator: Built) -> None:
    out = llmdb_cli(operator.path, "get", "llmgateway:gpt-3.5-turbo")
    assert out.returncode == 1 and out.stdout == ""
    assert "excluded by exclude '*:gpt-3.5-turbo'" in out.stderr and "everywhere.json" in out.stderr
    assert "Traceback" not in out.stderr


# -- denied models ---------------------------------------------------------------------------------------------


def test_cli_get_of_a_denied_model_shows_the_rule_on_its_card(operator: Built) -> None:
    out = llmdb_cli(operator.path, "get", "openai:gpt-4o")
    assert out.returncode == 0, out.stderr
    assert "denied by rule: deny openai: gpt-4o" in out.stdout and "128000" in out.stdout
    groq = llmdb_cli(operator.path, "get", "groq:llama-3.1-8b-instant")
    assert groq.returncode == 0 and "denied by rule: deny groq: *" in groq.stdout
    allowed = llmdb_cli(operator.path, "get", "openai:gpt-4o-mini")
    assert allowed.returncode == 0 and "denied" not in allowed.stdout


def test_cli_info_counts_denied_and_excluded(operator: Built, catalog: Catalog) -> None:
    out = llmdb_cli(operator.path, "info")
    denied = catalog.info()["denied"]
    assert out.returncode == 0 and f"{denied} denied by rules, 3 excluded" in out.stdout
    data = json.loads(llmdb_cli(operator.path, "info", "--json").stdout)
    assert (data["denied"], data["excluded"]) == (denied, 3)


# -- closed pipes ----------------------------------------------------------------------------------------------


def test_llmdb_list_into_head_exits_141_quietly(operator: Built) -> None:
    out = piped(f"{sys.executable} -m llmdb.cli --snapshot {operator.path} list --include-deprecated | head -1")
    assert out.returncode == 141
    assert out.stdout.split() == ["spec", "context", "output", "$in/1M", "$out/1M", "released"]
    assert "Traceback" not in out.stderr and "BrokenPipeError" not in out.stderr and out.stderr == ""


def test_llmdbd_check_json_into_head_says_nothing_on_stderr(tmp_path: Path) -> None:
    # Enough stale excludes that the JSON report is far larger than a pipe's buffer: the write must hit EPIPE.
    stale = tmp_path / "patches"
    stale.mkdir()
    (stale / "many.json").write_text(json.dumps({"exclude": [f"openai:no-such-model-{i:04}-*" for i in range(1000)]}))
    out = piped(f"{sys.executable} -m llmdbd check --upstream {API} --patches {stale} --json | head -c 10")
    assert out.stdout == '{"issues":'
    assert "Traceback" not in out.stderr and "BrokenPipeError" not in out.stderr and out.stderr == ""
    assert out.returncode == 141


# -- query mistakes --------------------------------------------------------------------------------------------


def test_supports_an_unknown_feature_raises_invalid_query_listing_valid_names(catalog: Catalog) -> None:
    with pytest.raises(llmdb.InvalidQuery) as info:
        catalog.supports("openai:gpt-4o-mini", "tool_calls")
    message = str(info.value)
    assert "did you mean 'tools'" in message and "input:<modality>" in message
    assert "valid:" in message and "tools" in message and "json_schema" in message
    assert isinstance(info.value, llmdb.LLMDBError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("catch", [llmdb.InvalidQuery, llmdb.LLMDBError, ValueError])
def test_invalid_queries_are_catchable_as_llmdb_error_and_value_error(catalog: Catalog, catch: type[Exception]) -> None:
    with pytest.raises(catch, match="valid: spec, cost, context, release_date"):
        catalog.models(order_by="bogus")
    with pytest.raises(catch, match=r"unknown feature 'tool_calls'; did you mean 'tools'\?; valid: chat,"):
        catalog.models(require=["tool_calls"])
    with pytest.raises(catch, match="unknown feature 'visio'"):
        catalog.supports("openai:gpt-4o-mini", "visio")


def test_require_an_input_modality_works(catalog: Catalog) -> None:
    found = catalog.models(require=["input:image"])
    assert len(found) > 100 and all("image" in m.modalities.input for m in found)
    assert catalog.supports("openai:gpt-4o-mini", "input:image")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("list", "--require", "tool_calls"), "did you mean 'tools'"),
        (("select", "--forbid", "json_mode"), "did you mean 'json_native'"),
        (("list", "--order-by", "bogus"), "invalid choice: 'bogus'"),
    ],
)
def test_cli_invalid_query_exits_2(operator: Built, args: tuple[str, ...], message: str) -> None:
    out = llmdb_cli(operator.path, *args)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


# -- times -----------------------------------------------------------------------------------------------------

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_info_built_at_is_iso_8601_utc(catalog: Catalog) -> None:
    built_at = catalog.info()["built_at"]
    assert isinstance(built_at, str) and ISO_UTC.match(built_at)


def test_cli_info_shows_iso_times_never_raw_float_timestamps(operator: Built, catalog: Catalog) -> None:
    out = llmdb_cli(operator.path, "info")
    assert out.returncode == 0 and out.stdout.startswith(f"snapshot:  {operator.path}")
    assert f"(built {catalog.info()['built_at']}," in out.stdout
    assert re.search(r"^epoch:", out.stdout, re.M) and not re.search(r"\b\d{9,}\.\d+", out.stdout)
    data = json.loads(llmdb_cli(operator.path, "info", "--json").stdout)
    assert ISO_UTC.match(data["built_at"]) and data["path"] == str(operator.path)


# -- llmdbd check ----------------------------------------------------------------------------------------------


def test_llmdbd_check_report_goes_to_stdout_with_summary_and_issue_naming_the_file(
    operator: Built, api_catalog: BuiltCatalog
) -> None:
    out = llmdbd("check", "--upstream", str(API), "--patches", str(operator.patches))
    assert out.returncode == 0, out.stderr
    report = out.stdout
    warnings = len(api_catalog.report.warnings) + 1  # upstream's own, and the stale exclude
    assert (
        report.splitlines()[0]
        == f"{API_MODELS - 3} models, 147 providers, 0 denied, 3 excluded; 0 error(s), {warnings} warning(s)"
    )
    stale = [line for line in report.splitlines() if "'openai:gpt-9-*' matches no model" in line]
    assert len(stale) == 1 and stale[0].startswith("warning: [filters]") and "stale.json" in stale[0]
    assert "field=exclude" in stale[0]


def test_llmdbd_check_redirected_to_a_file_keeps_the_report(operator: Built, tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    out = subprocess.run(
        f"{sys.executable} -m llmdbd check --upstream {API} --patches {operator.patches} > {target}",
        shell=True,
        capture_output=True,
        text=True,
        executable="/bin/bash",
        timeout=120,
    )
    assert out.returncode == 0 and out.stderr == ""
    text = target.read_text()
    assert text.startswith(f"{API_MODELS - 3} models, 147 providers") and "stale.json" in text


def test_llmdbd_check_json_lists_the_stale_exclude_warning(operator: Built) -> None:
    out = llmdbd("check", "--upstream", str(API), "--patches", str(operator.patches), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert (report["models"], report["excluded"]) == (API_MODELS - 3, 3)
    stale = [i for i in report["issues"] if i.get("field") == "exclude"]
    assert len(stale) == 1 and stale[0]["severity"] == "warning" and stale[0]["stage"] == "filters"
    assert "'openai:gpt-9-*'" in stale[0]["message"] and "stale.json" in json.dumps(stale[0])


def test_llmdbd_check_exits_1_when_a_patch_has_errors(operator: Built, tmp_path: Path) -> None:
    bad = tmp_path / "patches"
    bad.mkdir()
    (bad / "unscoped.json").write_text(json.dumps({"exclude": ["gpt-3.5-*"]}))
    out = llmdbd("check", "--upstream", str(API), "--patches", str(bad))
    assert out.returncode == 1 and "needs a provider" in out.stdout and "unscoped.json" in out.stdout
