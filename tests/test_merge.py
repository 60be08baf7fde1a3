"""Merge stage: precedence, deep merge, union lists, deletes, provenance; and properties over random stacks."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from catalogs import API
from hypothesis import given, settings
from hypothesis import strategies as st

from llmdb.schema import SourceInfo
from llmdbd import inputs
from llmdbd.engine import build
from llmdbd.engine.layer import DELETE, Fragment, Layer
from llmdbd.engine.merge import UNION_LISTS, merge
from llmdbd.sources import modelsdev, patches


def layer(name: str, *records: tuple[str, dict[str, Any]]) -> Layer:
    return Layer(
        info=SourceInfo(name=name, kind="upstream"),
        fragments=[Fragment(provider="p", model=mid, data=data, order=i) for i, (mid, data) in enumerate(records)],
    )


def test_higher_source_wins_on_scalars() -> None:
    m = merge([layer("low", ("m", {"name": "a", "family": "f"})), layer("high", ("m", {"name": "b"}))])
    assert m.models[("p", "m")] == {"name": "b", "family": "f"}
    layer_index, deleted, replaced = m.model_sources[("p", "m")]["name"]
    assert (layer_index, deleted, replaced) == (1, False, ((0, "a"),))


def test_tables_merge_key_by_key() -> None:
    low = {"cost": {"input": 1.0, "output": 2.0}, "limits": {"context": 10}}
    m = merge([layer("low", ("m", low)), layer("high", ("m", {"cost": {"output": 3.0}}))])
    assert m.models[("p", "m")] == {"cost": {"input": 1.0, "output": 3.0}, "limits": {"context": 10}}


def test_union_lists_deduplicate_keeping_order() -> None:
    low = {"aliases": ["a", "b"], "modalities": {"input": ["text", "image"]}}
    high = {"aliases": ["b", "c"], "modalities": {"input": ["pdf", "text"]}}
    m = merge([layer("low", ("m", low)), layer("high", ("m", high))])
    assert m.models[("p", "m")]["aliases"] == ["a", "b", "c"]
    assert m.models[("p", "m")]["modalities"]["input"] == ["text", "image", "pdf"]


def test_other_lists_are_replaced() -> None:
    low = {"cost": {"tiers": [{"above": 1, "input": 1.0}, {"above": 2, "input": 2.0}]}}
    high = {"cost": {"tiers": [{"above": 5, "input": 9.0}]}}
    m = merge([layer("low", ("m", low)), layer("high", ("m", high))])
    assert m.models[("p", "m")]["cost"]["tiers"] == [{"above": 5, "input": 9.0}]


def test_delete_removes_a_lower_value_and_provenance_says_so() -> None:
    m = merge([layer("low", ("m", {"family": "f", "cost": {"input": 1.0}})), layer("high", ("m", {"family": DELETE}))])
    assert "family" not in m.models[("p", "m")]
    assert m.model_sources[("p", "m")]["family"] == (1, True, ((0, "f"),))


def test_deleting_a_table_records_every_leaf_it_replaced() -> None:
    m = merge([layer("low", ("m", {"cost": {"input": 1.0, "output": 2.0}})), layer("high", ("m", {"cost": DELETE}))])
    assert "cost" not in m.models[("p", "m")]
    _, deleted, replaced = m.model_sources[("p", "m")]["cost"]
    assert deleted and sorted(replaced) == [(0, 1.0), (0, 2.0)]
    assert "cost.input" not in m.model_sources[("p", "m")]


def test_overridden_values_are_listed_lowest_first() -> None:
    m = merge([layer(str(i), ("m", {"name": f"v{i}"})) for i in range(4)])
    assert m.model_sources[("p", "m")]["name"] == (3, False, ((0, "v0"), (1, "v1"), (2, "v2")))


def test_duplicate_definition_in_one_layer_later_wins_with_a_warning() -> None:
    m = merge([layer("one", ("m", {"name": "first"}), ("m", {"name": "second"}))])
    assert m.models[("p", "m")]["name"] == "second"
    (issue,) = m.issues
    assert issue.severity == "warning" and issue.stage == "merge" and issue.model == "m"


# -- properties ----------------------------------------------------------------------------------------------

PATHS = ("name", "family", "cost.input", "cost.output", "limits.context", "tags", "modalities.input")
VALUES = {
    "name": st.sampled_from(["a", "b", "c"]),
    "family": st.sampled_from(["x", "y"]),
    "cost.input": st.floats(0, 10, allow_nan=False),
    "cost.output": st.floats(0, 10, allow_nan=False),
    "limits.context": st.integers(1, 10**6),
    "tags": st.lists(st.sampled_from(["t1", "t2", "t3"]), max_size=3),
    "modalities.input": st.lists(st.sampled_from(["text", "image", "pdf"]), max_size=3),
}


@st.composite
def fragments(draw: st.DrawFn) -> dict[str, Any]:
    chosen = draw(st.lists(st.sampled_from(PATHS), unique=True, max_size=len(PATHS)))
    flat = {p: DELETE if draw(st.integers(0, 9)) == 0 else draw(VALUES[p]) for p in chosen}
    nested: dict[str, Any] = {}
    for path, value in flat.items():
        head, _, tail = path.partition(".")
        if tail:
            nested.setdefault(head, {})[tail] = value
        else:
            nested[head] = value
    return nested


def reference_fold(stack: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, int]]:
    """Flat path → value and path → index of the layer that set or deleted it, the obvious way."""
    values: dict[str, Any] = {}
    setter: dict[str, int] = {}
    for i, data in enumerate(stack):
        flat = {f"{k}.{kk}": vv for k, v in data.items() if isinstance(v, dict) for kk, vv in v.items()}
        flat.update({k: v for k, v in data.items() if not isinstance(v, dict)})
        for path, value in flat.items():
            if value == DELETE:
                values.pop(path, None)
                setter[path] = i
                continue
            if path in UNION_LISTS and isinstance(values.get(path), list):
                combined = list(dict.fromkeys([*values[path], *value]))
                if combined != values[path]:
                    values[path], setter[path] = combined, i
                continue
            values[path], setter[path] = value, i
    return values, setter


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


@settings(max_examples=100, deadline=None)
@given(st.lists(fragments(), min_size=1, max_size=5))
def test_merge_equals_a_reference_fold(stack: list[dict[str, Any]]) -> None:
    layers = [layer(str(i), ("m", json.loads(json.dumps(data)))) for i, data in enumerate(stack)]
    merged = merge(layers)
    values, setter = reference_fold(stack)
    assert flatten(merged.models[("p", "m")]) == values
    sources = merged.model_sources[("p", "m")]
    for path, i in setter.items():
        assert sources[path][0] == i, (path, sources[path], i)


@settings(max_examples=15, deadline=None)
@given(st.randoms(use_true_random=False))
def test_build_is_independent_of_input_order(rnd: random.Random) -> None:
    api = json.loads(API.read_bytes())
    subset = {pid: api[pid] for pid in ("openai", "anthropic", "google-vertex")}
    docs = [{"models": [{"spec": "openai:gpt-4o", "name": f"patched {i}", "tags": [f"t{i}"]}]} for i in range(4)] + [
        {"provider": {"id": "anthropic"}, "exclude": ["claude-3-*"]}
    ]

    def catalog(shuffle: bool, root: Path) -> Any:
        providers = list(subset.items())
        if shuffle:
            rnd.shuffle(providers)
            providers = [
                (pid, {**p, "models": dict(rnd.sample(list(p["models"].items()), len(p["models"])))})
                for pid, p in providers
            ]
        order = list(range(len(docs)))
        if shuffle:
            rnd.shuffle(order)
        root.mkdir()
        for i in order:  # files created in a random order: the directory listing order varies
            (root / f"{i:02d}.json").write_text(json.dumps(docs[i]))
        upstream = modelsdev.load_bytes(json.dumps(dict(providers)).encode())
        return build(inputs.layers([upstream], patches.load_dirs([str(root)])))

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        plain = catalog(False, Path(tmp) / "a")
        shuffled = catalog(True, Path(tmp) / "b")
    assert plain.content_hash == shuffled.content_hash
    assert plain.models == shuffled.models
    assert plain.models["openai:gpt-4o"].name == "patched 3"
