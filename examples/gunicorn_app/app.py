"""A WSGI app (stdlib + llmdb) answering from the catalog: every gunicorn worker maps the same snapshot file.

    LLMDB_SNAPSHOT=/var/lib/llmdb/catalog.llmdb gunicorn -w 4 examples.gunicorn_app.app:app

GET /models/<spec>                                   the model's JSON
GET /select?require=tools,json_schema&prefer=openai  {"model": ..., "trace": [...]}
GET /cost/<spec>?input_tokens=1000&output_tokens=200 the CostBreakdown (any count of llmdb.Usage; service_tier=)
Every response carries `X-Worker-Pid` and `X-Catalog-Epoch`. Every `LLMDBError` answers a JSON body with the
error's message, its type and what it carries (`_ERROR_STATUS` below); anything else is a bug, and a 500.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, unquote

import msgspec

import llmdb

_JSON = msgspec.json.Encoder()
catalog = llmdb.default_catalog()
catalog.snapshot  # noqa: B018  open (and verify) now: with --preload the mapping is made once, before the fork

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

_ERROR_STATUS: dict[type[llmdb.LLMDBError], str] = {
    # The name matches nothing (ModelExcluded too: its `reason` names the exclude), or no model fits the query.
    llmdb.ModelNotFound: "404 Not Found",
    llmdb.UnknownProvider: "404 Not Found",
    llmdb.NoMatch: "404 Not Found",
    # A bare id several providers have: 409, not 300 Multiple Choices, because a 3xx is not an error to clients
    # (`raise_for_status()` passes it, and the body would be read as a model); the body lists the candidates.
    llmdb.AmbiguousModel: "409 Conflict",
    llmdb.InvalidSpec: "400 Bad Request",
    llmdb.InvalidQuery: "400 Bad Request",
    llmdb.InvalidUsage: "400 Bad Request",
    # The request is sound and the model exists, but the catalog has no price for it: not 402 (nobody owes).
    llmdb.PriceUnknown: "422 Unprocessable Content",
    # The catalog file cannot be read: the server's fault, not the request's; retrying later may work.
    llmdb.SnapshotError: "503 Service Unavailable",
    llmdb.LLMDBError: "400 Bad Request",
}
"""Each llmdb error's HTTP status; the most precise class in an error's MRO wins."""


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "")
    query = parse_qs(environ.get("QUERY_STRING", ""))
    try:
        found = _route(path, query)
        status, body = ("200 OK", found) if found else ("404 Not Found", _JSON.encode({"error": f"no route {path}"}))
    except llmdb.LLMDBError as exc:
        status, body = _error(exc)
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("X-Worker-Pid", str(os.getpid())),
            ("X-Catalog-Epoch", str(catalog.snapshot.epoch)),
        ],
    )
    return [body]


def _route(path: str, query: dict[str, list[str]]) -> bytes | None:
    if path.startswith("/models/"):
        return _JSON.encode(catalog.get(unquote(path[len("/models/") :])))
    if path == "/select":
        chosen = catalog.select(require=_csv(query, "require"), prefer=_csv(query, "prefer"))
        return _JSON.encode({"model": chosen.model, "trace": chosen.trace})
    if path.startswith("/cost/"):
        tier = query.pop("service_tier", [None])[-1]
        counts: dict[str, Any] = {name: _count(name, values[-1]) for name, values in query.items()}
        return _JSON.encode(catalog.cost(unquote(path[len("/cost/") :]), service_tier=tier, **counts))
    return None


def _error(exc: llmdb.LLMDBError) -> tuple[str, bytes]:
    """The status for `exc`, and a body with its message, its type and its attributes (`candidates` of an
    ambiguous name, `suggestions` of a missing one, `reason` of an excluded one, `trace` of a failed select)."""
    status = next(_ERROR_STATUS[cls] for cls in type(exc).__mro__ if cls in _ERROR_STATUS)
    carried = {name: value for name, value in vars(exc).items() if not name.startswith("_")}
    return status, _JSON.encode({"error": str(exc), "type": type(exc).__name__, **carried})


def _csv(query: dict[str, list[str]], name: str) -> list[str]:
    return [item for value in query.get(name, []) for item in value.split(",") if item]


def _count(name: str, text: str) -> float:
    """A count from the query string: seconds may be fractional, every other count is a whole number."""
    if name not in llmdb.UsageCounts.__annotations__:
        expected = ", ".join(["service_tier", *llmdb.UsageCounts.__annotations__])
        raise llmdb.InvalidUsage(f"unknown query parameter {name!r}; expected {expected}")
    try:
        return float(text) if name.endswith("_seconds") else int(text)
    except ValueError:
        raise llmdb.InvalidUsage(f"usage {name}: expected a number, got {text!r}") from None
