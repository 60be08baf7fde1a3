"""Models side by side (`llmdb compare`): each field path of the sections users compare, one value per model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from msgspec import Struct, structs

from llmdb import contract
from llmdb.errors import InvalidQuery
from llmdb.schema import Model

if TYPE_CHECKING:
    from llmdb._catalog import Catalog

SECTIONS = ("status", "limits", "cost", "capabilities", "modalities", "lifecycle", "release_date", "knowledge")
"""What is compared, in this order: a field path is shown when it starts with one of these."""
UNORDERED = frozenset({"modalities.input", "modalities.output"})
"""Fields whose lists are sets: `["text", "image"]` and `["image", "text"]` do not differ."""


class Comparison(Struct, frozen=True, kw_only=True):
    """`fields[path][i]` is model `specs[i]`'s value (None: it has none); `differs` lists the paths whose
    values are not all equal."""

    specs: list[str]
    fields: dict[str, list[Any]]
    differs: list[str]

    def differences(self) -> Comparison:
        """The same comparison holding only the fields that differ (`llmdb compare --differences`)."""
        return structs.replace(self, fields={p: self.fields[p] for p in self.differs})


def side_by_side(models: Sequence[Model], extra: Sequence[dict[str, Any]] = ()) -> Comparison:
    """`models` compared over `SECTIONS`; `extra[i]` adds paths for model i (its dates from the history)."""
    flats = [contract.flatten(m) for m in models]
    for flat, more in zip(flats, extra, strict=False):
        flat.update(more)
    rank = {name: i for i, name in enumerate(SECTIONS)}
    order: dict[str, None] = {}
    for flat in flats:
        for path in flat:
            if path.split(".", 1)[0] in rank:
                order.setdefault(path)
    paths = sorted(order, key=lambda p: rank[p.split(".", 1)[0]])  # stable: struct order within a section
    fields = {p: [flat.get(p) for flat in flats] for p in paths}
    return Comparison(
        specs=[m.spec for m in models],
        fields=fields,
        differs=[p for p, values in fields.items() if _differ(p, values)],
    )


def _differ(path: str, values: list[Any]) -> bool:
    if path in UNORDERED:
        values = [None if v is None else sorted(v) for v in values]
    return any(v != values[0] for v in values)


def compare(catalog: Catalog, *specs: str, differences: bool = False) -> Comparison:
    """Models side by side: limits, prices, capabilities, modalities, lifecycle (with the history's
    `introduced`/`removed` when there is a history), one value per model, and which fields differ
    (`differences`: only those fields)."""
    models = [catalog.get(spec) for spec in specs]
    if not models:
        raise InvalidQuery("compare needs at least one model")
    extra: list[dict[str, Any]] = []
    if catalog.history_path.is_file():
        from llmdb import _history  # sqlite3 only when there is a history to read

        for model in models:
            dates = _history.lifecycle_in(catalog.history_path, model.spec, model)
            extra.append({"lifecycle.introduced": dates.introduced, "lifecycle.last_changed": dates.last_changed})
    found = side_by_side(models, extra)
    return found.differences() if differences else found
