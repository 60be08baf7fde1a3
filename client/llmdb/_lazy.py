"""Modules imported on first use: `import llmdb` and a first `get` load only what a lookup needs (the file, its
freshness, the names); cost, queries, history, compare and info load when first asked for (docs/architecture.md).
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

PUBLIC = {
    "Comparison": "_compare",
    "CostBreakdown": "_cost",
    "FEATURES": "_features",
    "CatalogDiff": "_history",  # sqlite3 loads on a history's first read
    "Change": "_history",
    "FieldChange": "_history",
    "LifecycleDates": "_history",
    "ModelList": "_models",
    "Requirements": "_query",
    "Selection": "_query",
    "TraceStep": "_query",
    "APIS": "_responses",
    "Usage": "_usage",
    "UsageCounts": "_usage",
}
"""Public names (`llmdb.X`) of the modules loaded on first use, and their modules."""


def load(name: str) -> ModuleType:
    """The module `llmdb.<name>`, imported now if it is not yet (with the modules it imports, whose public
    classes are then shown as `llmdb.X`)."""
    module = sys.modules.get(f"llmdb.{name}")
    if module is None:
        __import__(f"llmdb.{name}")
        module = sys.modules[f"llmdb.{name}"]
        for public, where in PUBLIC.items():
            loaded = sys.modules.get(f"llmdb.{where}")
            if loaded is not None:
                shown_as_public(getattr(loaded, public))
    return module


def shown_as_public(value: Any) -> Any:
    """`value`; a class of this package is shown as `llmdb.X` (reprs and tracebacks name what users import)."""
    if isinstance(value, type) and value.__module__.startswith("llmdb."):
        value.__module__ = "llmdb"
    return value


class Forward:
    """A `Catalog` method that is its module's function of the catalog (`cost = Forward("_cost")` is
    `_cost.cost`): the module is imported on the first lookup of the method, which then replaces this
    descriptor on the class, so later calls are plain method calls."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, owner: type) -> Any:
        function = getattr(load(self.module), self.name)
        setattr(owner, self.name, function)
        return function if obj is None else function.__get__(obj, owner)
