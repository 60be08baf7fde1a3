"""Query strings read into the keyword arguments of `models()`, `select()` and `hosts()`: the filters `llmdb list`
takes, each route accepting its own; an unknown parameter or an unreadable value is `InvalidQuery`, named."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import QueryParams

from llmdb.errors import InvalidQuery

NUMBERS: dict[str, type] = {
    "min_context": int,
    "min_output": int,
    "max_input_cost": float,
    "max_output_cost": float,
    "min_intelligence": float,
    "min_coding": float,
    "min_agentic": float,
}
LISTS = frozenset({"require", "forbid", "input", "output", "mode", "prefer", "scope"})
FLAGS = frozenset({"include_deprecated"})

MODELS = frozenset({*NUMBERS, "require", "forbid", "input", "output", "mode", "provider", "order_by", "same_as", "at"})
MODELS |= FLAGS
"""What `/v1/models` and `/api/models` take (`models()`' arguments)."""
SELECT = frozenset({*NUMBERS, "require", "forbid", "input", "output", "mode", "prefer", "scope", "like", "order_by"})
SELECT |= FLAGS | {"at"}
"""What `/api/select` takes (`select()`'s arguments)."""
HOSTS = FLAGS | {"order_by", "at"}
"""What `/api/hosts/{name}` takes."""


def query(params: QueryParams, allowed: frozenset[str]) -> dict[str, Any]:
    """The keyword arguments `params` gives (`?provider=openai&require=tools,vision&min_context=100000`), each of
    `allowed`."""
    out: dict[str, Any] = {}
    for key, value in params.multi_items():
        if key not in allowed:
            raise InvalidQuery(f"unknown query parameter {key!r}; known here: {', '.join(sorted(allowed))}")
        if key in NUMBERS:
            try:
                out[key] = int(float(value)) if NUMBERS[key] is int else float(value)
            except (ValueError, OverflowError):  # `lots`, `nan` or `inf` for a token count
                raise InvalidQuery(f"{key}={value!r}: expected a number") from None
        elif key in LISTS:
            out.setdefault(key, []).extend(part.strip() for part in value.split(",") if part.strip())
        elif key in FLAGS:
            out[key] = value.lower() in ("1", "true", "yes")
        else:
            out[key] = value
    return out
