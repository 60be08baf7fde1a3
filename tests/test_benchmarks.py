"""Selection by how good a model is: the benchmark indices of the packaged catalog (Artificial Analysis', as
OpenRouter lists them) filter and order `models()`, `select()` and `llmdb list` without decoding records."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import llmdb

ALL = list(llmdb.models(include_deprecated=True))


def score(model: llmdb.Model, index: str) -> float | None:
    return getattr(model.benchmarks, index) if model.benchmarks is not None else None


@pytest.mark.parametrize("index", ["intelligence", "coding", "agentic"])
def test_a_minimum_keeps_exactly_the_models_at_or_above_it(index: str) -> None:
    found = {m.spec for m in llmdb.models(**{f"min_{index}": 40.0}, include_deprecated=True)}
    expected = {m.spec for m in ALL if (s := score(m, index)) is not None and s >= 40.0}
    assert found == expected and 5 < len(found) < 2400  # OpenRouter lists 118; their hosts share them


def test_ordered_by_an_index_the_best_come_first_and_the_unmeasured_last() -> None:
    ordered = list(llmdb.models(order_by="intelligence"))
    scores = [score(m, "intelligence") for m in ordered]
    measured = [s for s in scores if s is not None]
    assert measured == sorted(measured, reverse=True) and len(measured) > 100
    assert scores[: len(measured)] == measured and all(s is None for s in scores[len(measured) :])


def test_the_cheapest_model_good_enough_and_why_the_others_lost() -> None:
    choice = llmdb.select(require=["tools"], min_coding=60, order_by="cost")
    good = [
        m
        for m in ALL
        if not m.deprecated
        and m.capabilities.tools.enabled
        and (score(m, "coding") or 0) >= 60
        and m.cost is not None
        and m.cost.input is not None
    ]
    cheapest = min(good, key=lambda m: (m.cost.input, m.cost.output or 0.0))  # type: ignore[union-attr]
    assert choice.model.cost is not None and choice.model.cost.input == cheapest.cost.input  # type: ignore[union-attr]
    (step,) = choice.trace
    assert step.rejected_by["coding >= 60"] > 7000  # most models are not measured, or below it


def test_a_bad_minimum_is_a_clear_error() -> None:
    with pytest.raises(llmdb.InvalidQuery, match="min_coding=-1"):
        llmdb.models(min_coding=-1)


def test_the_cli_filters_orders_and_shows_them() -> None:
    def llmdb_cli(*args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "llmdb", *args], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout

    listed = json.loads(llmdb_cli("--json", "list", "--min-agentic", "50", "--order-by", "agentic"))
    agentic = [m["benchmarks"]["agentic"] for m in listed]
    assert agentic and agentic == sorted(agentic, reverse=True) and min(agentic) >= 50
    card = llmdb_cli("get", "openrouter:qwen/qwen3.8-max")
    assert "benchmarks       intelligence 53.4, coding 68.9, agentic 49.9 (artificial_analysis)" in card
