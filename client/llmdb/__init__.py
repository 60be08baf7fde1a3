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

import sys
from collections.abc import Callable
from typing import Any

if not getattr(sys, "_is_gil_enabled", lambda: True)():
    # The name cache and the supports() memo are read and replaced without locks: safe because the GIL runs no
    # other thread between the bytecodes of one lookup. Without it, a reader could see a half-made entry.
    raise ImportError(
        "llmdb needs the GIL, and this free-threaded Python runs without it: start it with PYTHON_GIL=1 (or -X gil=1)"
    )

from llmdb._catalog import Catalog, Supports, default_path, packaged_path
from llmdb._compare import Comparison
from llmdb._cost import CostBreakdown
from llmdb._features import FEATURES
from llmdb._history import CatalogDiff, Change, FieldChange, LifecycleDates  # sqlite3 loads on a history's first read
from llmdb._models import ModelList
from llmdb._query import Requirements, Selection, TraceStep
from llmdb._responses import APIS
from llmdb._responses import usage as _read_usage
from llmdb._snapshot import Snapshot
from llmdb._usage import Usage, UsageCounts
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
    "Requirements",
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
    "hosts",
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


# The module-level functions are the default catalog's bound methods: one spelling of each signature, and
# `help()` and `inspect.signature` show it. The two hot paths go straight to C: `get` is the name cache's
# `__getitem__` (a dict hit once a name has been asked for in the current snapshot; a miss resolves and decodes
# it), `supports` its lru_cache'd answers.
get: Callable[[str], Model] = _default.by_name.__getitem__
"""`llmdb.get(spec)`: the model `spec` names (any name `Catalog.get` takes); `ModelNotFound` (a `KeyError`) with
close matches otherwise."""
supports: Supports = _default.supported
"""`llmdb.supports(spec, *features)`: `Catalog.supports` on the default catalog, answers remembered."""
find = _default.find
resolve = _default.resolve
parse_spec = _default.parse_spec
providers = _default.providers
provider = _default.provider
capabilities = _default.capabilities
allowed = _default.allowed
explain = _default.explain
cost = _default.cost
models = _default.models
select = _default.select
hosts = _default.hosts
info = _default.info
history = _default.history
changes = _default.changes
diff = _default.diff
lifecycle = _default.lifecycle
compare = _default.compare


def usage(obj: Any, *, api: str | None = None) -> Usage:
    """A `Usage` read from a response or its usage part (OpenAI Chat Completions or Responses, Anthropic,
    Gemini, Bedrock Converse, OpenAI-compatible APIs), as a dict or an SDK object; `api=` forces the shape."""
    return _read_usage(obj, api=api)


# No module `__getattr__` here: CPython 3.11 does not specialize attribute loads on a module that has one, and
# `llmdb.get(...)` would pay ~17 ns more per call (docs/architecture.md).
for _name in __all__:  # reprs and tracebacks say llmdb.Catalog, llmdb.Model: the names users import
    _public = globals()[_name]
    if isinstance(_public, type) and _public.__module__.startswith("llmdb."):
        _public.__module__ = __name__
del _name, _public
