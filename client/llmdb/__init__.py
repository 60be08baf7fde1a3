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
from typing import TYPE_CHECKING, Any

if not getattr(sys, "_is_gil_enabled", lambda: True)():
    # The name cache and the supports() memo are read and replaced without locks: safe because the GIL runs no
    # other thread between the bytecodes of one lookup. Without it, a reader could see a half-made entry.
    raise ImportError(
        "llmdb needs the GIL, and this free-threaded Python runs without it: start it with PYTHON_GIL=1 (or -X gil=1)"
    )

from llmdb._catalog import Catalog, Supports, default_path, packaged_path
from llmdb._lazy import PUBLIC, load, shown_as_public
from llmdb._snapshot import Snapshot
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

if TYPE_CHECKING:
    from llmdb._compare import Comparison
    from llmdb._cost import CostBreakdown
    from llmdb._features import FEATURES
    from llmdb._history import CatalogDiff, Change, FieldChange, LifecycleDates
    from llmdb._models import ModelList
    from llmdb._query import Requirements, Selection, TraceStep
    from llmdb._responses import APIS
    from llmdb._usage import Usage, UsageCounts


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
if TYPE_CHECKING:
    cost = _default.cost
    models = _default.models
    select = _default.select
    info = _default.info
    history = _default.history
    changes = _default.changes
    diff = _default.diff
    lifecycle = _default.lifecycle
    compare = _default.compare
_FORWARDED = ("cost", "models", "select", "info", "history", "changes", "diff", "lifecycle", "compare")
"""The default catalog's methods answered by modules loaded on first use: bound when first asked for."""


def usage(obj: Any, *, api: str | None = None) -> Usage:
    """A `Usage` read from a response or its usage part (OpenAI Chat Completions or Responses, Anthropic,
    Gemini, Bedrock Converse, OpenAI-compatible APIs), as a dict or an SDK object; `api=` forces the shape."""
    read: Callable[..., Usage] = load("_responses").usage
    return read(obj, api=api)


if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        """The public names whose modules load on first use (PEP 562); each is then a plain module attribute."""
        if name in _FORWARDED:
            value = getattr(_default, name)
        elif name in PUBLIC:
            value = shown_as_public(getattr(load(PUBLIC[name]), name))
        else:
            raise AttributeError(f"module 'llmdb' has no attribute {name!r}")
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


for _name in __all__:
    if _name not in PUBLIC and _name not in _FORWARDED:
        shown_as_public(globals()[_name])
del _name
