"""Per-environment profiles: one snapshot holds every profile; reader processes pick theirs with
`LLMDB_PROFILE`, `Catalog(profile=)` or `--profile`; a hot reload of the daemon's config changes them everywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from daemon_helpers import Daemon

import llmdb
from llmdb import contract
from llmdbd import config as settings
from llmdbd import inputs
from llmdbd.engine import build
from llmdbd.engine.profiles import build_profiles
from llmdbd.sources import packaged

PROFILES = """
[profiles.prod]
allow = {openai = ["gpt-4o*", "gpt-5*"], anthropic = "*"}
deny = {openai = "gpt-4o-mini*"}
exclude = ["openai:gpt-4o-2024-05-13"]
overrides = {models = [{spec = "openai:gpt-4o", limits = {output = 4096}, capabilities = {tools = {enabled = false}}}]}
[profiles.test]
allow = {openai = "gpt-4o"}
[profiles.dev]
"""

READ = """
import json, sys, llmdb
c = llmdb.Catalog(sys.argv[1])
def answers():
    out = {"profile": c.info()["profile"], "allowed": len(c.models()), "tools": len(c.models(require=["tools"]))}
    m = c.get("openai:gpt-4o")
    out["gpt-4o"] = [m.limits.output, c.supports("openai:gpt-4o", "tools"), c.allowed("openai:gpt-4o")]
    out["mini"] = c.allowed("openai:gpt-4o-mini")
    try:
        c.get("openai:gpt-4o-2024-05-13")
        out["dated"] = "found"
    except llmdb.ModelExcluded as exc:
        out["dated"] = "excluded"
    return out
first = answers()
c.snapshot.shed()  # what a publish does to the file served before: read again, it answers as the profile still
c._swapped(c.snapshot)
print(json.dumps(first if answers() == first else {"shed": "answers changed"}))
"""


def read(path: Path, profile: str | None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != contract.PROFILE_ENV}
    if profile is not None:
        env[contract.PROFILE_ENV] = profile
    out = subprocess.run([sys.executable, "-c", READ, str(path)], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


@pytest.mark.slow
def test_one_snapshot_serves_every_profile_and_a_reload_changes_them_everywhere(tmp_path: Path) -> None:
    d = Daemon(tmp_path, PROFILES).start()
    catalog = d.state / contract.CATALOG_FILE
    try:
        base, prod, test, dev = (read(catalog, p) for p in (None, "prod", "test", "dev"))
        assert base["profile"] is None and prod["profile"] == "prod"
        assert base["gpt-4o"] == [16384, True, True] and base["dated"] == "found" and base["mini"] is True
        assert prod["gpt-4o"] == [4096, False, True]  # its overrides
        assert prod["mini"] is False  # its deny wins over its allow (gpt-4o*)
        assert prod["dated"] == "excluded"
        assert prod["allowed"] < base["allowed"] and prod["tools"] < prod["allowed"]
        assert test["allowed"] == 1 and test["gpt-4o"] == [16384, True, True]
        assert dev == {**base, "profile": "dev"}  # an empty profile is the base

        # a long-lived reader with the prod profile sees the reload without restarting
        watcher = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys, time, llmdb\n"
                "c = llmdb.Catalog(sys.argv[1]); first = c.allowed('openai:gpt-4o-mini')\n"
                "print(first, flush=True)\n"
                "end = time.monotonic() + 60\n"
                "while c.allowed('openai:gpt-4o-mini') == first and time.monotonic() < end:\n"
                "    time.sleep(0.05)\n"
                "print(c.allowed('openai:gpt-4o-mini'), c.get('openai:gpt-4o').limits.output, flush=True)\n",
                str(catalog),
            ],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, contract.PROFILE_ENV: "prod"},
        )
        assert watcher.stdout is not None and watcher.stdout.readline().strip() == "False"
        d.write_config(PROFILES.replace('deny = {openai = "gpt-4o-mini*"}', "").replace("4096", "2048"))
        out, _ = watcher.communicate(timeout=90)
        assert out.split() == ["True", "2048"]
        assert read(catalog, "prod")["mini"] is True and read(catalog, "test")["allowed"] == 1
    finally:
        d.stop()


def test_an_unknown_profile_is_a_clear_error_naming_the_profiles(tmp_path: Path) -> None:
    path = tmp_path / "catalog.llmdb"
    (tmp_path / "c.toml").write_text(PROFILES)
    out = subprocess.run(
        [sys.executable, "-m", "llmdbd", "build", "--config", str(tmp_path / "c.toml"), "--output", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    cli = [sys.executable, "-m", "llmdb.cli", "--snapshot", str(path)]
    run = subprocess.run([*cli, "--profile", "staging", "get", "openai:gpt-4o"], capture_output=True, text=True)
    assert run.returncode == 2 and "no profile 'staging'" in run.stderr and "dev, prod, test" in run.stderr
    assert "Traceback" not in run.stderr
    env = {**os.environ, contract.PROFILE_ENV: "staging"}
    run = subprocess.run([*cli, "info"], capture_output=True, text=True, env=env)
    assert run.returncode == 2 and "no profile 'staging'" in run.stderr
    info = subprocess.run([*cli, "--profile", "prod", "info"], capture_output=True, text=True)
    assert info.returncode == 0 and "profile:   prod; the file has dev, prod, test" in info.stdout
    with pytest.raises(llmdb.UnknownProfile, match="dev, prod, test"):
        llmdb.Catalog(path, profile="staging").get("openai:gpt-4o")
    with pytest.raises(llmdb.UnknownProfile, match="profiles: none"):
        llmdb.Catalog(llmdb.packaged_path(), profile="prod").get("openai:gpt-4o")


def test_a_profiled_snapshot_rebuilds_to_its_own_content_hash(tmp_path: Path) -> None:
    """What a follower does with its leader's file: the profiles travel with it and compile again the same."""
    (tmp_path / "c.toml").write_text(PROFILES)
    config, _ = settings.load(tmp_path / "c.toml", env={})
    layers = [packaged.load()]
    leader = build_profiles(build(layers), layers, inputs.profiles(config.profile_definitions(), layers))
    assert set(leader.profiles) == {"dev", "prod", "test"}
    from llmdbd.output.snapshot import encode_snapshot

    path = tmp_path / "leader.llmdb"
    path.write_bytes(encode_snapshot(leader, epoch=1, built_at=0.0))
    follower_layers = [packaged.load(path, name="leader")]
    follower = build_profiles(build(follower_layers), follower_layers, inputs.profiles({}, follower_layers))
    assert follower.content_hash == leader.content_hash
    plain = build(layers)
    assert plain.content_hash != leader.content_hash  # the profiles are part of what is published


def test_a_profiles_bad_overrides_are_reported_naming_the_profile(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(
        '[profiles.prod]\noverrides = {models = [{spec = "openai:gpt-4o", limitz = {output = 4096}}]}\n'
        '[profiles.test]\noverrides = {models = "x"}\n'
    )
    out = subprocess.run(
        [sys.executable, "-m", "llmdbd", "check", "--config", str(tmp_path / "c.toml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in out.stderr
    errors = [line for line in (out.stdout + out.stderr).splitlines() if line.startswith("error:")]
    assert any("limitz" in e and "source=profile:prod" in e for e in errors), out.stdout + out.stderr
    assert any("`models` must be a list" in e and "source=profile:test" in e for e in errors), errors


def test_diff_and_info_read_every_file_as_the_profile(tmp_path: Path) -> None:
    """Both sides of a diff are read as the active profile: an override's change shows, a profile's exclusion
    is in neither side; `info` counts the models the profile serves."""
    paths = []
    for name, output in (("a", 4096), ("b", 2048)):
        (tmp_path / f"{name}.toml").write_text(PROFILES.replace("output = 4096", f"output = {output}"))
        paths.append(tmp_path / f"{name}.llmdb")
        command = [sys.executable, "-m", "llmdbd", "build", "--config", str(tmp_path / f"{name}.toml")]
        out = subprocess.run([*command, "--output", str(paths[-1])], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
    cli = [sys.executable, "-m", "llmdb.cli", "--snapshot", str(paths[1]), "--json"]
    found = json.loads(subprocess.run([*cli, "--profile", "prod", "diff", str(paths[0])], capture_output=True).stdout)
    assert found["changed"] == {"openai:gpt-4o": [{"field": "limits.output", "old": 4096, "new": 2048}]}
    assert found["added"] == [] and found["removed"] == [] and found["profile"] == "prod"
    # a file without the profile (one from before it existed): both sides are read as the base catalog
    older = subprocess.run([*cli, "--profile", "prod", "diff", str(llmdb.packaged_path())], capture_output=True)
    assert older.returncode == 0 and json.loads(older.stdout)["profile"] is None, older.stderr
    table = subprocess.run([*cli[:-1], "--profile", "prod", "diff", str(llmdb.packaged_path())], capture_output=True)
    assert b"as the base catalog (a file has no profile 'prod')" in table.stdout.splitlines()[0]
    base = json.loads(subprocess.run([*cli, "diff", str(paths[0])], capture_output=True).stdout)
    assert base["changed"] == {} and base["added"] == [] and base["removed"] == []
    info = json.loads(subprocess.run([*cli, "--profile", "prod", "info"], capture_output=True).stdout)
    everything = json.loads(subprocess.run([*cli, "info"], capture_output=True).stdout)
    assert info["models"] == everything["models"] - 1 and info["excluded"] == everything["excluded"] + 1
