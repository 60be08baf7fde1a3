"""Fixtures shared by the suite: the real models.dev catalog built once per session, and the `slow` marker
(daemon, gunicorn and concurrency tests that start processes: `pytest -m "not slow"` skips them locally;
CI runs everything)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # helper modules (catalogs, daemon_helpers) import by name

from catalogs import API

from llmdbd.engine import BuiltCatalog, build
from llmdbd.sources import modelsdev


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: starts real daemons, gunicorn or many processes")


@pytest.fixture(scope="session")
def api_catalog() -> BuiltCatalog:
    """The shared api.json built with no patches (treat as read-only)."""
    return build([modelsdev.load_path(API)])
