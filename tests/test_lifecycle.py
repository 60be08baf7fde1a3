"""Lifecycle by the calendar (issue 26, item 1): a model past its deprecation date reads deprecated, past its
retirement date retired, on the day the reading process asks; the packaged catalog's own dates, real processes."""

from __future__ import annotations

import datetime
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_helpers import wait_for

import llmdb
from llmdb import Catalog, Snapshot, _calendar, _query

TODAY = "2026-12-07"


@pytest.fixture
def day() -> Iterator[list[str]]:
    """The reading process's clock, moved by the test (`_calendar.today` is the one clock)."""
    moved = [TODAY]
    real = _calendar.today
    _calendar.today = lambda: moved[0]
    try:
        yield moved
    finally:
        _calendar.today = real


@pytest.fixture(scope="module")
def built() -> list[llmdb.Model]:
    """Every packaged model as the file holds it (the build's status)."""
    snap = Snapshot(llmdb.packaged_path())
    return [snap.model_at(i) for i in range(snap.model_count)]


def test_past_its_deprecation_date_a_model_reads_deprecated(day: list[str], built: list[llmdb.Model]) -> None:
    catalog = Catalog(llmdb.packaged_path())
    old = catalog.get("azure:gpt-35-turbo-16k")  # LiteLLM: deprecated 2025-04-30; the file says active
    assert (old.status, old.deprecated, old.lifecycle.deprecation_date) == ("deprecated", True, "2025-04-30")
    stale = [m for m in built if m.status == "active" and (m.lifecycle.deprecation_date or "9") <= TODAY]
    assert len(stale) > 400 and all(catalog.get(m.spec).status == "deprecated" for m in stale)
    listed = {m.spec for m in catalog.models()}
    assert not listed & {m.spec for m in stale}  # models() leaves deprecated models out, as documented
    assert {m.spec for m in stale} <= {m.spec for m in catalog.models(include_deprecated=True)}
    fresh = catalog.get("openai:gpt-4o")  # no date reached
    assert fresh.status == "active" and not fresh.deprecated


def test_the_day_before_it_is_active_and_the_day_it_is_deprecated(day: list[str]) -> None:
    day[0] = "2026-11-29"
    assert Catalog(llmdb.packaged_path()).get("anthropic:claude-sonnet-4-5").status == "active"  # 2026-11-30
    day[0] = "2026-11-30"
    assert Catalog(llmdb.packaged_path()).get("anthropic:claude-sonnet-4-5").status == "deprecated"


def test_a_long_running_process_crosses_midnight(day: list[str], tmp_path: Path) -> None:
    """A followed catalog caches the model; the checker thread sees the day change and the next `get` answers
    as of the new day, with no publish."""
    path = tmp_path / "catalog.llmdb"
    path.write_bytes(llmdb.packaged_path().read_bytes())
    catalog = Catalog(path)
    day[0] = "2026-11-29"
    assert catalog.get("anthropic:claude-sonnet-4-5").status == "active"
    assert "anthropic:claude-sonnet-4-5" in {m.spec for m in catalog.models(provider="anthropic")}
    day[0] = "2026-11-30"
    wait_for(lambda: catalog.get("anthropic:claude-sonnet-4-5").status == "deprecated", "the new day", timeout=10)
    assert "anthropic:claude-sonnet-4-5" not in {m.spec for m in catalog.models(provider="anthropic")}


def test_past_its_retirement_date_a_model_is_retired_and_never_selected(day: list[str]) -> None:
    catalog = Catalog(llmdb.packaged_path())
    chat = catalog.get("openrouter:openai/gpt-5.2-chat")  # OpenRouter's expiration_date 2026-08-10
    assert (chat.status, chat.lifecycle.retirement_date) == ("retired", "2026-08-10")
    snap = catalog.snapshot
    _, retired = _query.dated_bits(snap, TODAY)
    assert retired and not _query.mask(snap, include_deprecated=True, day=TODAY, include_retired=False) & retired
    chosen = catalog.select(scope="openrouter", like="openrouter:openai/gpt-5.2-chat", include_deprecated=True)
    assert chosen.model.status != "retired"
    day[0] = "2026-08-09"
    assert Catalog(llmdb.packaged_path()).get("openrouter:openai/gpt-5.2-chat").status == "active"


def test_the_card_says_since_when() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "llmdb", "get", "azure:gpt-35-turbo-16k"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "status           deprecated" in out.stdout
    assert "lifecycle        deprecated since 2025-04-30" in out.stdout


def test_at_another_day(day: list[str]) -> None:
    """`at=` answers the lifecycle on another day than today: the same file, no clock moved."""
    catalog = Catalog(llmdb.packaged_path())
    spec = "anthropic:claude-sonnet-4-5"  # deprecated 2026-11-30
    assert catalog.resolve(spec).status == "deprecated"
    assert catalog.resolve(spec, at="2026-11-29").status == "active"
    assert catalog.resolve(spec, at=datetime.date(2026, 11, 30)).status == "deprecated"
    assert spec in {m.spec for m in catalog.models(provider="anthropic", at="2026-06-01")}
    assert spec not in {m.spec for m in catalog.models(provider="anthropic")}
    assert len(catalog.models(at="2025-01-01")) > len(catalog.models()) > len(catalog.models(at="2030-01-01"))
    chosen = catalog.select(scope="anthropic", like=spec, order_by="release_date", at="2026-06-01")
    assert chosen.model.status == "active"
    assert catalog.get(spec).status == "deprecated"  # at= asked nothing of today's answers
    for bad in ("yesterday", "2026-13-01", 20261201):
        with pytest.raises(llmdb.InvalidQuery, match="expected a date"):
            catalog.models(at=bad)  # type: ignore[arg-type]


def test_at_on_the_command_line() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "llmdb", *args], capture_output=True, text=True, timeout=60)

    assert "status           active" in run("get", "anthropic:claude-sonnet-4-5", "--at", "2026-06-01").stdout
    assert "status           deprecated" in run("get", "anthropic:claude-sonnet-4-5").stdout
    listed = run("list", "--provider", "anthropic", "--at", "2026-06-01").stdout
    assert "anthropic:claude-sonnet-4-5 " in listed
    bad = run("list", "--at", "tomorrow")
    assert bad.returncode == 2 and "expected a date" in bad.stderr and "Traceback" not in bad.stderr
