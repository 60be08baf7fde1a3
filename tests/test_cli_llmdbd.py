"""`llmdbd build` and `llmdbd check` as commands: outputs, reports and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from catalogs import API, API_MODELS, PACKAGED_MODELS

import llmdb
from llmdb import Snapshot


def llmdbd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "llmdbd", *args], capture_output=True, text=True, timeout=120)


def test_build_writes_a_snapshot_and_publishes_into_a_state_dir(tmp_path: Path) -> None:
    out = llmdbd("build", "--upstream", str(API), "--output", str(tmp_path / "c.llmdb"))
    assert out.returncode == 0, out.stderr
    assert len(Snapshot(tmp_path / "c.llmdb").specs) == API_MODELS
    first = llmdbd("build", "--state-dir", str(tmp_path / "state"))  # default upstream: the packaged catalog
    again = llmdbd("build", "--state-dir", str(tmp_path / "state"))
    assert first.returncode == 0 and "epoch 1" in first.stderr
    assert again.returncode == 0 and "unchanged" in again.stderr


def test_check_uses_a_config_and_fails_on_errors(tmp_path: Path) -> None:
    patches = tmp_path / "patches"
    patches.mkdir()
    (patches / "ok.json").write_text(json.dumps({"models": [{"spec": "openai:gpt-4o", "name": "x"}]}))
    config = tmp_path / "llmdbd.toml"
    config.write_text(f'patch_dirs = ["{patches}"]\n[deny]\nopenai = ["gpt-4o"]\n')
    good = llmdbd("check", "--config", str(config), "--json")
    assert good.returncode == 0, good.stderr
    report = json.loads(good.stdout)
    assert report["models"] == len(Snapshot(llmdb.packaged_path()).specs) == PACKAGED_MODELS and report["denied"] == 1
    assert [s["name"] for s in report["sources"]] == ["packaged", "patch:ok.json"]
    (patches / "bad.toml").write_text("[[models]]\nspec = 'openai:gpt-4o'\ncots = 1\n")
    bad = llmdbd("check", "--config", str(config))
    assert bad.returncode == 1 and "unknown model field 'cots'" in bad.stdout and "bad.toml" in bad.stdout
    config.write_text("pach_dirs = []\n")
    refused = llmdbd("check", "--config", str(config))
    assert refused.returncode == 1 and "unknown key 'pach_dirs'" in refused.stderr


def test_version_is_the_installed_distributions() -> None:
    from importlib import metadata

    out = llmdbd("--version")
    assert out.returncode == 0 and out.stdout == f"llmdbd {metadata.version('llmdbd')}\n"


def test_build_takes_each_upstream_of_the_registry_by_name(tmp_path: Path) -> None:
    """`--upstream NAME=FILE` for every upstream of the registry (FILE alone: models.dev's), origins too; the
    older `--litellm FILE` still works; an upstream named twice is refused."""
    from catalogs import LITELLM

    out = llmdbd("build", "--help")
    assert "--upstream [NAME=]FILE" in out.stdout and "--upstream-origin [NAME=]URL" in out.stdout
    for flags in (
        ["--upstream", f"models.dev={API}", "--upstream", f"litellm={LITELLM}"],
        ["--upstream", str(API), "--litellm", str(LITELLM)],
    ):
        target = tmp_path / "c.llmdb"
        out = llmdbd(
            "build", *flags, "--upstream-origin", "litellm=https://example/map.json", "--output", str(target), "--json"
        )
        assert out.returncode == 0, out.stderr
        sources = {s.name: s.file for s in Snapshot(target).report().sources}
        assert sources == {"litellm": "https://example/map.json", "models.dev": str(API)}
    out = llmdbd("build", "--upstream", str(API), "--upstream", f"models.dev={API}", "--output", str(tmp_path / "x"))
    assert out.returncode == 2 and out.stderr == "llmdbd: --upstream names models.dev twice\n"
    out = llmdbd("build", "--upstream", f"litelm={LITELLM}", "--output", str(tmp_path / "x"))
    assert (
        out.returncode == 2
        and out.stderr.startswith("llmdbd: --upstream litelm=")
        and "no upstream 'litelm'" in out.stderr
    )
