"""llmdb: the catalog of LLM models (limits, prices, capabilities), read from a memory-mapped snapshot.

    import llmdb
    llmdb.get("openai:gpt-4o").limits.context          # 128000
    llmdb.cost("openai:gpt-4o", input_tokens=1000, output_tokens=200).total
    llmdb.cost("openai:gpt-4o", usage=response.usage).total   # any SDK's response or usage
    llmdb.models(require=["tools", "json_schema"], input="image", order_by="cost")

Module-level functions use a default `Catalog` opened on first use: `$LLMDB_SNAPSHOT`, else the daemon's
`catalog.llmdb` in `$LLMDB_STATE_DIR` (default /var/lib/llmdb), else the snapshot packaged with this library.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from llmdb._catalog import Catalog, ModelList, default_path, packaged_path
from llmdb._compare import Comparison
from llmdb._cost import CostBreakdown
from llmdb._features import FEATURES
from llmdb._history import CatalogDiff, Change, FieldChange, LifecycleDates  # sqlite3 loads on a history's first read
from llmdb._query import Requirements, Selection, TraceStep
from llmdb._snapshot import Snapshot
from llmdb._usage import APIS, Usage, UsageCounts
from llmdb._usage import usage as _read_usage
from llmdb.errors import (
    AmbiguousModel,
    HistoryError,
    InvalidQuery,
    InvalidSpec,
    InvalidUsage,
    LLMDBError,
    ModelExcluded,
    ModelNotFound,
    NoMatch,
    PriceUnknown,
    SnapshotError,
    UnknownProfile,
    UnknownProvider,
)
from llmdb.schema import (
    SCHEMA_VERSION,
    BuildIssue,
    BuildReport,
    Capabilities,
    Cost,
    CostTier,
    Limits,
    Modalities,
    Model,
    Provenance,
    Provider,
)

__version__ = "0.1.0"

__all__ = [
    "APIS",
    "FEATURES",
    "SCHEMA_VERSION",
    "AmbiguousModel",
    "BuildIssue",
    "BuildReport",
    "Capabilities",
    "Catalog",
    "CatalogDiff",
    "Change",
    "Comparison",
    "Cost",
    "CostBreakdown",
    "CostTier",
    "FieldChange",
    "HistoryError",
    "InvalidQuery",
    "InvalidSpec",
    "InvalidUsage",
    "LLMDBError",
    "LifecycleDates",
    "Limits",
    "Modalities",
    "Model",
    "ModelExcluded",
    "ModelList",
    "ModelNotFound",
    "NoMatch",
    "PriceUnknown",
    "Provenance",
    "Provider",
    "Selection",
    "Snapshot",
    "SnapshotError",
    "TraceStep",
    "UnknownProfile",
    "UnknownProvider",
    "Usage",
    "UsageCounts",
    "__version__",
    "allowed",
    "capabilities",
    "changes",
    "compare",
    "cost",
    "default_catalog",
    "default_path",
    "diff",
    "explain",
    "find",
    "get",
    "history",
    "info",
    "lifecycle",
    "models",
    "packaged_path",
    "parse_spec",
    "provider",
    "providers",
    "resolve",
    "select",
    "supports",
    "usage",
]

_default = Catalog()
"""The process-wide catalog behind the module-level functions: its file is found and opened on first use."""


def default_catalog() -> Catalog:
    """The process-wide catalog behind the module-level functions (opened once, on first use)."""
    return _default


get: Callable[[str], Model] = _default.get
"""`llmdb.get(spec)`: the model `spec` names (any name `Catalog.get` takes); `ModelNotFound` (a `KeyError`) with
close matches otherwise. A dict hit once a name has been asked for in the current snapshot."""
supports = _default.supports
cost = _default.cost


def find(spec: str) -> Model | None:
    """The model `spec` names, or None."""
    return _default.find(spec)


def resolve(spec: str | tuple[str, str], *, scope: str | Sequence[str] | None = None) -> Model:
    """Like `get`, also for (provider, id) tuples and bare model ids (unique, or within `scope`)."""
    return default_catalog().resolve(spec, scope=scope)


def parse_spec(text: str) -> tuple[str, str]:
    """(canonical provider id, model id) from `provider:model`, `model@provider` or `provider/model`."""
    return default_catalog().parse_spec(text)


def models(
    provider: str | None = None,
    *,
    require: Requirements = None,
    forbid: Requirements = None,
    input: str | Iterable[str] | None = None,
    output: str | Iterable[str] | None = None,
    mode: str | Iterable[str] | None = None,
    min_context: int | None = None,
    min_output: int | None = None,
    max_input_cost: float | None = None,
    max_output_cost: float | None = None,
    include_deprecated: bool = False,
    order_by: str | None = None,
) -> ModelList:
    """Allowed models matching every condition (see `Catalog.models`)."""
    return default_catalog().models(
        provider,
        require=require,
        forbid=forbid,
        input=input,
        output=output,
        mode=mode,
        min_context=min_context,
        min_output=min_output,
        max_input_cost=max_input_cost,
        max_output_cost=max_output_cost,
        include_deprecated=include_deprecated,
        order_by=order_by,
    )


def select(
    *,
    require: Requirements = None,
    forbid: Requirements = None,
    prefer: Sequence[str] = (),
    like: str | None = None,
    scope: str | Sequence[str] | None = None,
    order_by: str | None = None,
    input: str | Iterable[str] | None = None,
    output: str | Iterable[str] | None = None,
    mode: str | Iterable[str] | None = None,
    min_context: int | None = None,
    min_output: int | None = None,
    max_input_cost: float | None = None,
    max_output_cost: float | None = None,
    include_deprecated: bool = False,
) -> Selection:
    """The first allowed model meeting the requirements and `models()`' filters, with the trace of how it was
    found (see `Catalog.select`)."""
    return default_catalog().select(
        require=require,
        forbid=forbid,
        prefer=prefer,
        like=like,
        scope=scope,
        order_by=order_by,
        input=input,
        output=output,
        mode=mode,
        min_context=min_context,
        min_output=min_output,
        max_input_cost=max_input_cost,
        max_output_cost=max_output_cost,
        include_deprecated=include_deprecated,
    )


def providers() -> list[Provider]:
    return default_catalog().providers()


def provider(id: str) -> Provider:
    return default_catalog().provider(id)


def capabilities(spec: str) -> Capabilities:
    return default_catalog().capabilities(spec)


def allowed(spec: str) -> bool:
    return default_catalog().allowed(spec)


def explain(spec: str) -> dict[str, Provenance]:
    return default_catalog().explain(spec)


def info() -> dict[str, Any]:
    return default_catalog().info()


def usage(obj: Any, *, api: str | None = None) -> Usage:
    """A `Usage` read from a response or its usage part (OpenAI Chat Completions or Responses, Anthropic,
    Gemini, Bedrock Converse, OpenAI-compatible APIs), as a dict or an SDK object; `api=` forces the shape."""
    return _read_usage(obj, api=api)


def history(spec: str, field: str | None = None) -> list[Change]:
    """The timeline of a model from the history beside the snapshot (see `Catalog.history`)."""
    return default_catalog().history(spec, field)


def changes(
    since: str | date | datetime | float, *, provider: str | None = None, field: str | None = None
) -> list[Change]:
    """What changed across the catalog since a time (see `Catalog.changes`)."""
    return default_catalog().changes(since, provider=provider, field=field)


def diff(old: str | os.PathLike[str] | int, new: str | os.PathLike[str] | int | None = None) -> CatalogDiff:
    """Two snapshot files or retained epochs compared model by model (see `Catalog.diff`)."""
    return default_catalog().diff(old, new)


def lifecycle(spec: str) -> LifecycleDates:
    """A model's lifecycle with its dates from the history (see `Catalog.lifecycle`)."""
    return default_catalog().lifecycle(spec)


def compare(*specs: str, differences: bool = False) -> Comparison:
    """Models side by side (see `Catalog.compare`); `differences`: only the fields that differ."""
    return default_catalog().compare(*specs, differences=differences)
