"""What a snapshot stores per model beside its record: column values and the names of its set bits."""

from typing import Any

from llmdb._features import features_of
from llmdb.schema import Model

COLUMNS = (
    "context",
    "output",
    "input_cost",
    "output_cost",
    "release_date",
    "family",
    "base_id",
    "identity",
    "intelligence",
    "coding",
    "agentic",
    "deprecation_date",
    "retirement_date",
)
"""What numeric limits, orderings, lifecycle, hosts and `select(like=...)` read without decoding a record:
`Index.columns`' keys, and `format.DATE_COLUMNS` in `Index.dates`."""


def column_values(model: Model) -> tuple[Any, ...]:
    """A model's value in each of `COLUMNS`."""
    cost, bench = model.cost, model.benchmarks
    return (
        model.limits.context,
        model.limits.output,
        cost.input if cost is not None else None,
        cost.output if cost is not None else None,
        model.release_date,
        model.family,
        model.base_id,
        model.identity,
        bench.intelligence if bench is not None else None,
        bench.coding if bench is not None else None,
        bench.agentic if bench is not None else None,
        model.lifecycle.deprecation_date,
        model.lifecycle.retirement_date,
    )


def bitset_names(model: Model, allowed: bool) -> set[str]:
    """The names of the bitsets that have `model`'s bit set."""
    names = {k for k, v in features_of(model).items() if v}
    names.add(f"status:{model.status}")
    if model.mode is not None:
        names.add(f"mode:{model.mode}")
    names.update(f"input:{m}" for m in model.modalities.input)
    names.update(f"output:{m}" for m in model.modalities.output)
    if allowed:
        names.add("allowed")
    if model.deprecated:
        names.add("deprecated")
    if model.cost is not None:
        names.add("has_cost")
    return names
