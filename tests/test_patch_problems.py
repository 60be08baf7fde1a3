"""What a patch's author is told, through `llmdbd check` and `llmdbd build` run as commands on real files: every
problem of a file at once in plain words, and a model no source has is added only when the entry says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import llmdb


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LLMDB_SNAPSHOT"}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=300)


def patch_dir(tmp_path: Path, files: dict[str, Any]) -> Path:
    directory = tmp_path / "patches"
    directory.mkdir()
    for name, doc in files.items():
        (directory / name).write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return directory


def issues(stdout: str, file: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(stdout)["issues"]
    return [i for i in found if (i.get("file") or "").endswith(file)]


def test_every_problem_of_a_patch_file_is_reported_at_once_in_plain_words(tmp_path: Path) -> None:
    bad = {
        "provider": {"id": "openai"},
        "models": [
            {
                "id": "gpt-4o",
                "cots": {"input": 1},
                "cost": {"input": -1, "output": 3.0},
                "limits": {"context": "big", "contxt": 5},
                "release_date": "2025-13-01",
            }
        ],
    }
    directory = patch_dir(tmp_path, {"bad.json": bad})
    out = run("-m", "llmdbd", "check", "--patches", str(directory), "--json")
    assert out.returncode == 1, out.stderr
    messages = [i["message"] for i in issues(out.stdout, "bad.json")]
    assert messages == [
        "models[0].cots: unknown model field 'cots'",
        "models[0].limits.contxt: unknown field",
        "models[0].cost.input: must be ≥ 0, got -1",
        'models[0].limits.context: must be a whole number, got "big"',
        'models[0].release_date: must be a date written YYYY, YYYY-MM or YYYY-MM-DD, got "2025-13-01"',
        "file not applied: 5 error(s) in it; nothing of it is used",
    ]
    text = run("-m", "llmdbd", "check", "--patches", str(directory))
    assert "Expected" not in text.stdout and "models[0].cost.input: must be ≥ 0, got -1" in text.stdout


def test_a_rejected_file_loses_nothing_and_the_rest_applies(tmp_path: Path) -> None:
    bad = {"models": [{"spec": "openai:gpt-4o", "cost": {"input": -1, "output": -2}, "tiers": []}]}
    good = {"models": [{"spec": "anthropic:claude-sonnet-4-5", "name": "patched"}]}
    directory = patch_dir(tmp_path, {"a-bad.json": bad, "b-good.json": good})
    output = tmp_path / "out.llmdb"
    out = run("-m", "llmdbd", "build", "--patches", str(directory), "--output", str(output), "--json")
    assert out.returncode == 0, out.stderr
    assert len([i for i in issues(out.stdout, "a-bad.json") if i["severity"] == "error"]) == 4
    served, packaged = llmdb.Catalog(output), llmdb.Catalog(llmdb.packaged_path())
    assert served.get("openai:gpt-4o").cost == packaged.get("openai:gpt-4o").cost
    assert served.get("anthropic:claude-sonnet-4-5").name == "patched"


def test_a_typo_in_a_patch_creates_no_model_and_says_how_to_add_one(tmp_path: Path) -> None:
    directory = patch_dir(tmp_path, {"typo.json": {"models": [{"spec": "openai:gpt-404", "cost": {"input": 2.0}}]}})
    output = tmp_path / "out.llmdb"
    out = run("-m", "llmdbd", "build", "--patches", str(directory), "--output", str(output))
    assert out.returncode == 0, out.stderr
    (line,) = [line for line in out.stdout.splitlines() if "gpt-404" in line]
    assert line.startswith("warning: [merge] openai:gpt-404 (models[0]) is in no lower source, so it was not added")
    assert "did you mean" in line and "openai:gpt-4o" in line and '"new": true' in line
    assert f"file={directory / 'typo.json'}" in line
    missing = run("-m", "llmdb.cli", "--snapshot", str(output), "get", "openai:gpt-404")
    assert missing.returncode == 1 and "gpt-404" in missing.stderr, missing.stderr

    (directory / "typo.json").unlink()
    (directory / "add.toml").write_text('[[models]]\nspec = "openai:gpt-404"\nnew = true\ncost = {input = 2.0}\n')
    out = run("-m", "llmdbd", "build", "--patches", str(directory), "--output", str(output))
    assert out.returncode == 0 and "gpt-404" not in out.stdout, out.stdout
    model = llmdb.Catalog(output).get("openai:gpt-404")
    assert model.cost is not None and model.cost.input == 2.0


def test_new_must_be_true_or_false(tmp_path: Path) -> None:
    directory = patch_dir(tmp_path, {"a.json": {"models": [{"spec": "openai:gpt-404", "new": "yes"}]}})
    out = run("-m", "llmdbd", "check", "--patches", str(directory), "--json")
    assert out.returncode == 1
    assert issues(out.stdout, "a.json")[0]["message"] == 'models[0].new: must be true or false, got "yes"'
