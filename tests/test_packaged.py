"""The snapshot packaged in the wheel: built by `llmdbd build` from models.dev, read with no daemon and no env."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from catalogs import API, API_MODELS, LITELLM

import llmdb
from llmdb import Snapshot
from llmdbd.engine import BuiltCatalog, build

HEAVY = ("anyio", "httpx", "watchfiles", "structlog", "llmdbd", "sqlite3")


def test_packaged_snapshot_is_the_build_of_both_shared_upstreams(both_catalog: BuiltCatalog) -> None:
    packaged = Snapshot(llmdb.packaged_path())
    assert packaged.content_hash == both_catalog.content_hash
    assert len(packaged.specs) == len(both_catalog.models) > API_MODELS  # LiteLLM adds the models models.dev lacks


def test_packaged_provenance_names_a_stable_origin_not_a_build_machine_path() -> None:
    genai, openrouter, litellm, modelsdev = Snapshot(llmdb.packaged_path()).report().sources  # lowest first
    assert (genai.name, openrouter.name) == ("genai-prices", "openrouter")
    assert genai.file is not None and genai.file.startswith("https://raw.githubusercontent.com/pydantic/genai-prices/")
    assert openrouter.file == "https://openrouter.ai/api/v1/models?output_modalities=all"
    assert (modelsdev.name, modelsdev.file) == ("models.dev", "https://models.dev/api.json")
    assert modelsdev.version == "sha256:" + hashlib.sha256(API.read_bytes()).hexdigest()
    assert litellm.name == "litellm" and litellm.file is not None and litellm.file.startswith("pypi:litellm==")
    assert litellm.version == "sha256:" + hashlib.sha256(LITELLM.read_bytes()).hexdigest()
    explained = llmdb.Catalog(llmdb.packaged_path()).explain("openai:gpt-4o")
    assert explained["cost.input"].file == modelsdev.file
    assert explained["cost.batch.input"].file == litellm.file  # only LiteLLM has batch prices


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "LLMDB_SNAPSHOT"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**clean, **env}, timeout=60, check=True
    )


def test_a_fresh_process_reads_the_packaged_snapshot_without_heavy_imports(tmp_path: Path) -> None:
    code = (
        "import sys, json, llmdb\n"
        "m = llmdb.get('openai:gpt-4o')\n"
        "llmdb.models(require=['tools']); llmdb.select(require=['tools']); llmdb.supports('openai:gpt-4o', 'tools')\n"
        "llmdb.cost('openai:gpt-4o', input_tokens=10, output_tokens=10); llmdb.explain('openai:gpt-4o')\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(json.dumps({'context': m.limits.context, 'heavy': heavy, 'path': llmdb.info()['path']}))\n"
    )
    out = json.loads(_python(code, LLMDB_STATE_DIR=str(tmp_path)).stdout)  # a state dir no daemon publishes to
    assert out["context"] == 128000
    assert out["heavy"] == []
    assert out["path"] == str(llmdb.packaged_path())  # no daemon state in $LLMDB_STATE_DIR (see _python)


def test_a_daemons_catalog_in_llmdb_state_dir_comes_before_the_packaged_one(tmp_path: Path) -> None:
    (tmp_path / "catalog.llmdb").write_bytes(llmdb.packaged_path().read_bytes())
    out = _python("import llmdb; print(llmdb.info()['path'])", LLMDB_STATE_DIR=str(tmp_path))
    assert out.stdout.strip() == str(tmp_path / "catalog.llmdb")


def test_llmdb_snapshot_env_var_chooses_the_file(tmp_path: Path) -> None:
    path = tmp_path / "custom.llmdb"
    path.write_bytes(llmdb.packaged_path().read_bytes())
    out = _python("import llmdb; print(llmdb.info()['path'])", LLMDB_SNAPSHOT=str(path))
    assert out.stdout.strip() == str(path)


def test_the_packaged_catalog_as_a_layer_rebuilds_the_same_catalog() -> None:
    from llmdbd.sources import packaged

    rebuilt = build([packaged.load(llmdb.packaged_path())])
    assert rebuilt.content_hash == Snapshot(llmdb.packaged_path()).content_hash
    assert rebuilt.report.errors == ()


def test_packaged_history_ends_at_the_packaged_snapshot() -> None:
    """The shipped history's newest catalog is the shipped snapshot (both built from ../shared/upstream)."""
    import sqlite3

    from llmdb import contract

    conn = sqlite3.connect(f"file:{llmdb.packaged_path().with_name(contract.HISTORY_FILE)}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT epoch, content_hash, at FROM versions ORDER BY id").fetchall()
    finally:
        conn.close()
    days = ["2026-01-01", "2026-07-01", "2026-08-05", "2026-08-21", "2026-09-01", "2026-11-12"]
    assert [contract.iso(at)[:10] for _, _, at in rows] == days  # 2026-09-01: a genai-prices start date
    assert rows[-1][1] == Snapshot(llmdb.packaged_path()).content_hash
    assert all(epoch is None for epoch, _, _ in rows)


def _command(*args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("LLMDB_SNAPSHOT", "LLMDBD_PACKAGED_SNAPSHOT")}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=clean, timeout=300)


def test_a_build_from_the_packaged_catalog_keeps_its_provenance(tmp_path: Path) -> None:
    """No upstream configured (the README's Run): `llmdb explain` on the result says what the packaged file says."""
    output = tmp_path / "catalog.llmdb"
    built = _command("-m", "llmdbd", "build", "--output", str(output))
    assert built.returncode == 0, built.stderr
    explained = [
        json.loads(_command("-m", "llmdb.cli", "--snapshot", str(path), "explain", "openai:gpt-4o", "--json").stdout)
        for path in (output, llmdb.packaged_path())
    ]
    assert explained[0] == explained[1]
    assert explained[0]["cost.input"]["source"] == "models.dev"
    assert explained[0]["cost.batch.input"]["source"] == "litellm"
    snapshot = Snapshot(output)
    assert snapshot.content_hash == Snapshot(llmdb.packaged_path()).content_hash
    assert snapshot.provider_provenance("openai") == Snapshot(llmdb.packaged_path()).provider_provenance("openai")


def test_conflicts_from_the_packaged_catalog_are_the_ones_it_records(tmp_path: Path) -> None:
    found = _command("-m", "llmdbd", "check", "--conflicts")
    assert found.returncode == 0, found.stderr
    head, *lines = found.stdout.splitlines()
    assert head.startswith("1607 conflict(s) between upstreams, as recorded in the packaged snapshot")
    assert len(lines) == 1607 and all(line.count("=") >= 2 for line in lines)  # two upstreams' values, at least
    assert sum("genai-prices=" in line for line in lines) and sum("openrouter=" in line for line in lines)

    only = tmp_path / "modelsdev.llmdb"
    built = _command("-m", "llmdbd", "build", "--upstream", str(API), "--output", str(only))
    assert built.returncode == 0, built.stderr
    env = {**os.environ, "LLMDBD_PACKAGED_SNAPSHOT": str(only)}
    found = subprocess.run(
        [sys.executable, "-m", "llmdbd", "check", "--conflicts"], capture_output=True, text=True, env=env, timeout=300
    )
    assert found.stdout.startswith("no conflicts to show: the catalog was built from the packaged snapshot")
    assert "records models.dev;" in found.stdout and "--upstream litellm=FILE" in found.stdout
