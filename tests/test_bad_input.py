"""Bad input: each gets a clear report entry naming file, field and reason, and the rest of the build stands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from catalogs import API, API_MODELS

from llmdb.schema import BuildIssue
from llmdbd import inputs
from llmdbd.engine import BuiltCatalog, build
from llmdbd.engine.filters import Rules
from llmdbd.errors import BuildError
from llmdbd.sources import modelsdev, patches


@pytest.fixture(scope="module")
def api_bytes() -> bytes:
    return API.read_bytes()


def build_with(tmp_path: Path, api_bytes: bytes, files: dict[str, bytes | str], **kw: Any) -> BuiltCatalog:
    directory = tmp_path / "patches"
    directory.mkdir(exist_ok=True)
    for name, content in files.items():
        (directory / name).write_bytes(content.encode() if isinstance(content, str) else content)
    rules = kw.pop("rules", None)
    return build(inputs.layers([modelsdev.load_bytes(api_bytes)], patches.load_dirs([directory]), **kw), rules)


def only_error(catalog: BuiltCatalog, file_name: str) -> BuildIssue:
    errors = [i for i in catalog.report.errors if i.file and i.file.endswith(file_name)]
    assert errors, catalog.report.issues
    return errors[0]


def assert_untouched(catalog: BuiltCatalog) -> None:
    m = catalog.models["openai:gpt-4o"]
    assert m.cost is not None and (m.cost.input, m.cost.output) == (2.5, 10.0)
    assert m.limits.context == 128000
    assert len(catalog.models) == API_MODELS


GOOD = json.dumps({"models": [{"spec": "anthropic:claude-sonnet-4-5", "name": "good patch applied"}]})


def bad_case(tmp_path: Path, api_bytes: bytes, name: str, content: bytes | str) -> BuildIssue:
    catalog = build_with(tmp_path, api_bytes, {name: content, "zz-good.json": GOOD})
    assert_untouched(catalog)
    assert catalog.models["anthropic:claude-sonnet-4-5"].name == "good patch applied"
    return only_error(catalog, name)


def test_malformed_json(tmp_path: Path, api_bytes: bytes) -> None:
    issue = bad_case(tmp_path, api_bytes, "a.json", '{"models": [{"spec": "openai:gpt-4o",}]}')
    assert issue.stage == "load" and "invalid JSON" in issue.message


def test_malformed_toml(tmp_path: Path, api_bytes: bytes) -> None:
    issue = bad_case(tmp_path, api_bytes, "a.toml", '[[models]]\nspec = "openai:gpt-4o\n')
    assert issue.stage == "load" and "invalid TOML" in issue.message


def test_non_utf8_bytes(tmp_path: Path, api_bytes: bytes) -> None:
    issue = bad_case(tmp_path, api_bytes, "a.json", b'{"models": [{"spec": "openai:gpt-4o", "name": "\xff"}]}')
    assert "not UTF-8" in issue.message and "offset" in issue.message


def test_wrong_type(tmp_path: Path, api_bytes: bytes) -> None:
    doc = {"models": [{"spec": "openai:gpt-4o", "limits": {"context": "big"}}]}
    issue = bad_case(tmp_path, api_bytes, "a.json", json.dumps(doc))
    assert (
        issue.stage == "validate"
        and issue.field == "limits.context"
        and 'must be a whole number, got "big"' in issue.message
    )
    assert (issue.provider, issue.model) == ("openai", "gpt-4o")


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"modles": []}, "modles"),
        ({"models": [{"spec": "openai:gpt-4o", "cots": {"input": 1}}]}, "models[0].cots"),
        ({"models": [{"spec": "openai:gpt-4o", "capabilities": {"tols": {"enabled": True}}}]}, "capabilities.tols"),
        ({"models": [{"spec": "openai:gpt-4o", "cost": {"inputt": 1}}]}, "models[0].cost.inputt"),
        ({"provider": {"id": "openai", "nmae": "x"}}, "provider.nmae"),
    ],
)
def test_unknown_keys_name_the_key(tmp_path: Path, api_bytes: bytes, doc: dict[str, Any], field: str) -> None:
    issue = bad_case(tmp_path, api_bytes, "a.json", json.dumps(doc))
    assert issue.field == field and "unknown" in issue.message


@pytest.mark.parametrize(
    ("patch", "field"),
    [({"cost": {"input": -1}}, "cost.input"), ({"limits": {"output": -5}}, "limits.output")],
)
def test_negative_costs_and_limits(tmp_path: Path, api_bytes: bytes, patch: dict[str, Any], field: str) -> None:
    issue = bad_case(tmp_path, api_bytes, "a.json", json.dumps({"models": [{"spec": "openai:gpt-4o", **patch}]}))
    assert issue.field == field and f"models[0].{field}: must be ≥ " in issue.message


def test_string_over_one_mib(tmp_path: Path, api_bytes: bytes) -> None:
    doc = {"models": [{"spec": "openai:gpt-4o", "name": "x" * (1 << 20 | 1)}]}
    issue = bad_case(tmp_path, api_bytes, "a.json", json.dumps(doc))
    assert issue.field == "name" and "at most 1048576 characters long" in issue.message
    doc = {"models": [{"spec": "openai:gpt-4o", "extra": {"note": "x" * (1 << 20 | 1)}}]}
    issue = bad_case(tmp_path, api_bytes, "b.json", json.dumps(doc))
    assert issue.field == "extra.note" and "longer than" in issue.message


def test_nesting_deeper_than_32(tmp_path: Path, api_bytes: bytes) -> None:
    deep: Any = "bottom"
    for _ in range(40):
        deep = {"d": deep}
    issue = bad_case(tmp_path, api_bytes, "a.json", json.dumps({"models": [{"spec": "openai:gpt-4o", "extra": deep}]}))
    assert "nested deeper than 32" in issue.message and issue.field is not None and issue.field.startswith("extra.d")


def test_one_bad_entry_keeps_the_whole_file_out(tmp_path: Path, api_bytes: bytes) -> None:
    doc = {
        "models": [
            {"spec": "openai:gpt-4o", "name": "would apply"},
            {"spec": "openai:gpt-4o-mini", "limits": {"context": -1}},
        ],
        "exclude": ["openai:o1*"],
    }
    catalog = build_with(tmp_path, api_bytes, {"a.json": json.dumps(doc), "zz-good.json": GOOD})
    assert catalog.models["openai:gpt-4o"].name == "GPT-4o"
    assert any(s.startswith("openai:o1") for s in catalog.models)
    messages = [i.message for i in catalog.report.errors if i.file and i.file.endswith("a.json")]
    assert any("not applied" in m for m in messages)
    assert catalog.models["anthropic:claude-sonnet-4-5"].name == "good patch applied"


def test_exclude_matching_nothing_is_a_warning(tmp_path: Path, api_bytes: bytes) -> None:
    catalog = build_with(tmp_path, api_bytes, {"a.json": json.dumps({"exclude": ["openai:no-such-*"]})})
    (warning,) = [i for i in catalog.report.warnings if i.stage == "filters"]
    assert "no-such-*" in warning.message and warning.source is not None and warning.source.endswith("a.json")
    assert_untouched(catalog)


def test_rule_for_unknown_provider_is_an_error_not_allow_everything(tmp_path: Path, api_bytes: bytes) -> None:
    catalog = build_with(tmp_path, api_bytes, {}, rules=Rules(allow={"opnai": "*"}))
    (error,) = [i for i in catalog.report.errors if i.stage == "filters"]
    assert error.field == "allow.opnai" and "unknown provider" in error.message
    assert len(catalog.denied) == len(catalog.models)


def test_overrides_module_that_raises(tmp_path: Path, api_bytes: bytes) -> None:
    module = tmp_path / "overrides.py"
    module.write_text("from llmdbd import Overrides\noverrides = Overrides()\nraise RuntimeError('boom')\n")
    catalog = build_with(tmp_path, api_bytes, {}, overrides_module=str(module))
    error, summary = catalog.report.errors
    assert summary.file == str(module) and summary.message.startswith("source not applied")
    assert error.file == str(module) and "line 3" in error.message and "RuntimeError: boom" in error.message
    assert_untouched(catalog)


def test_upstream_that_is_not_json_fails_the_build_with_a_report() -> None:
    with pytest.raises(BuildError) as info:
        build([modelsdev.load_bytes(b"<html>502 Bad Gateway</html>", file="api.json")])
    (error,) = info.value.report.errors
    assert error.file == "api.json" and "not valid JSON" in error.message


def test_an_upstream_record_with_one_bad_field_keeps_the_model(api_bytes: bytes) -> None:
    doc = json.loads(api_bytes)
    doc["openai"]["models"]["gpt-4o"]["release_date"] = "2024-13-45"
    doc["openai"]["models"]["gpt-4o"]["limit"]["output"] = -3
    catalog = build([modelsdev.load_bytes(json.dumps(doc).encode())])
    m = catalog.models["openai:gpt-4o"]
    assert m.release_date is None and m.limits.output is None and m.limits.context == 128000
    fields = {i.field for i in catalog.report.warnings if i.model == "gpt-4o" and i.provider == "openai"}
    assert fields == {"release_date", "limits.output"}
