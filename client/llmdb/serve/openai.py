"""OpenAI's model list shapes (`client.models.list()`, `client.models.retrieve(...)`), each model carrying llmdb's
answers beside OpenAI's own fields, and `llmdb list`'s filters read from a query string."""

from __future__ import annotations

import calendar
from typing import Any

import msgspec
from starlette.datastructures import QueryParams

from llmdb.errors import InvalidQuery
from llmdb.schema import Model

NUMBERS = {
    "min_context": int,
    "min_output": int,
    "max_input_cost": float,
    "max_output_cost": float,
    "min_intelligence": float,
    "min_coding": float,
    "min_agentic": float,
}
LISTS = ("require", "forbid", "input", "output", "mode")
WORDS = ("provider", "order_by", "same_as", "at")


def model(m: Model) -> dict[str, Any]:
    """OpenAI's model object (`id`, `object`, `created`, `owned_by`) and llmdb's model under `llmdb`."""
    return {
        "id": m.spec,
        "object": "model",
        "created": _created(m.release_date),
        "owned_by": m.provider,
        "llmdb": msgspec.to_builtins(m),
    }


def query(params: QueryParams) -> dict[str, Any]:
    """`models()`' keyword arguments from a query string (`?provider=openai&require=tools,vision&min_context=1e5`);
    `InvalidQuery` naming a parameter it does not know or a value it cannot read."""
    out: dict[str, Any] = {}
    for key, value in params.multi_items():
        if key in NUMBERS:
            try:
                out[key] = NUMBERS[key](float(value)) if NUMBERS[key] is int else float(value)
            except ValueError:
                raise InvalidQuery(f"{key}={value!r}: expected a number") from None
        elif key in LISTS:
            out.setdefault(key, []).extend(part.strip() for part in value.split(",") if part.strip())
        elif key in WORDS:
            out[key] = value
        elif key == "include_deprecated":
            out[key] = value.lower() in ("1", "true", "yes")
        else:
            known = ", ".join((*WORDS, *LISTS, *NUMBERS, "include_deprecated"))
            raise InvalidQuery(f"unknown query parameter {key!r}; known: {known}")
    return out


def _created(day: str | None) -> int:
    """The release date as Unix time (OpenAI's `created`), 0 when unknown."""
    if not day:
        return 0
    parts = [int(p) for p in day.split("-")] + [1, 1]
    return calendar.timegm((parts[0], parts[1], parts[2], 0, 0, 0, 0, 0, 0))
