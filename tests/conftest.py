"""Fixtures shared by the suite: the real models.dev catalog built once per session, a real daemon, and the
`slow` marker (daemon, gunicorn and concurrency tests that start processes: `pytest -m "not slow"` skips them
locally; CI runs everything)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from catalogs import API, LITELLM, PACKAGED_AS_OF
from daemon_helpers import Daemon
from object_store import S3Server

import llmdb
from llmdbd import inputs
from llmdbd.config import Config
from llmdbd.engine import BuiltCatalog, build
from llmdbd.sources import modelsdev

# The module-level API (`llmdb.get`, `llmdb.cost`, ...) reads the packaged snapshot in every test, whatever this
# machine has in /var/lib/llmdb (the default catalog finds its file at first use, so this is in time).
os.environ.setdefault("LLMDB_SNAPSHOT", str(llmdb.packaged_path()))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: starts real daemons, gunicorn or many processes")


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    """A real `llmdbd run` on a temporary state directory, stopped after the test."""
    d = Daemon(tmp_path).start()
    yield d
    d.stop()


@pytest.fixture(scope="session")
def api_catalog() -> BuiltCatalog:
    """The shared api.json built with no patches (treat as read-only)."""
    return build([modelsdev.load_path(API)])


@pytest.fixture(scope="session")
def both_catalog() -> BuiltCatalog:
    """The four shared upstreams in the default precedence, no patches, dated prices as of the day it was built:
    what the packaged snapshot holds (read-only)."""
    files: dict[str, str | None] = {
        "models.dev": str(API),
        "litellm": str(LITELLM),
        "openrouter": str(API.parents[1] / "openrouter" / "models.json"),
        "genai-prices": str(API.parents[1] / "genai-prices" / "v2" / "data.json"),
    }
    return inputs.catalog(Config(patch_dirs=[]).with_inputs(files, [], None), as_of=PACKAGED_AS_OF)


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[S3Server]:
    """A real S3-compatible server (moto's) on 127.0.0.1 with the test bucket, stopped after the test."""
    server = S3Server(tmp_path / "moto.log").start()
    server.create_bucket()
    try:
        yield server
    finally:
        server.stop()
