"""The checked types add rules to the read types without changing their shape."""

from __future__ import annotations

import re

import msgspec
import pytest

from llmdb import schema
from llmdbd.engine import checked as rules

PAIRS = [
    (rules.CheckedModel, schema.Model),
    (rules.CheckedProvider, schema.Provider),
    (rules.CheckedLimits, schema.Limits),
    (rules.CheckedCost, schema.Cost),
    (rules.CheckedCostTier, schema.CostTier),
    (rules.CheckedModalities, schema.Modalities),
    (rules.CheckedCapabilities, schema.Capabilities),
    (rules.CheckedReasoning, schema.Reasoning),
]


@pytest.mark.parametrize(("checked", "plain"), PAIRS)
def test_checked_types_have_the_read_types_fields_in_order(checked: type, plain: type) -> None:
    names = [f.encode_name for f in msgspec.structs.fields(checked)]
    assert names == [f.encode_name for f in msgspec.structs.fields(plain)]
    assert issubclass(checked, plain)


@pytest.mark.parametrize(
    ("record", "path"),
    [
        ({"release_date": "2025-25-11"}, "$.release_date"),
        ({"knowledge": "2024-1"}, "$.knowledge"),
        ({"limits": {"context": 0}}, "$.limits.context"),
        ({"cost": {"tiers": [{"above": -1}]}}, "$.cost.tiers[0].above"),
        ({"modalities": {"input": ["Text"]}}, "$.modalities.input[0]"),
        ({"spec": ""}, "$.spec"),
    ],
)
def test_rules_reject_with_a_field_path(record: dict[str, object], path: str) -> None:
    base = {"spec": "p:m", "id": "m", "provider": "p"}
    with pytest.raises(msgspec.ValidationError, match=re.escape(f"at `{path}`")):
        msgspec.convert({**base, **record}, rules.CheckedModel)
    msgspec.convert({**base, **record}, schema.Model)  # the read type takes it: rules live in the daemon
