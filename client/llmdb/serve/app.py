"""The ASGI application: routes, and every `LLMDBError` as a JSON error (never a traceback or an HTML page)."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

import llmdb
from llmdb import Catalog
from llmdb.errors import (
    AmbiguousModel,
    InvalidQuery,
    InvalidSpec,
    LLMDBError,
    ModelExcluded,
    ModelNotFound,
    SnapshotError,
    UnknownProvider,
)
from llmdb.serve import openai

MAX_QUERY = 4096
"""Bytes of query string a request may carry: every filter fits in far less."""

STATUS: tuple[tuple[type[LLMDBError], int], ...] = (
    (ModelExcluded, 404),
    (ModelNotFound, 404),
    (UnknownProvider, 404),
    (AmbiguousModel, 409),
    (InvalidSpec, 400),
    (InvalidQuery, 400),
    (SnapshotError, 503),
)
"""An error's HTTP status, the first class it is an instance of (any other `LLMDBError`: 422)."""


def json(body: Any, status: int = 200) -> Response:
    """The schema's JSON, as the CLI's `--json` prints it."""
    return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")


def error(exc: LLMDBError) -> Response:
    """`{"error": {"type", "message", ...what it carries}}` with the status that fits."""
    status = next((code for kind, code in STATUS if isinstance(exc, kind)), 422)
    said = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)  # KeyError's str() quotes it
    body: dict[str, Any] = {"type": type(exc).__name__, "message": said}
    for name in ("candidates", "suggestions", "reason"):
        value = getattr(exc, name, None)
        if value:
            body[name] = list(value) if isinstance(value, (list, tuple)) else value
    return json({"error": body}, status)


def create_app(catalog: Catalog | None = None) -> Starlette:
    """The application over `catalog` (default: the process-wide one, `llmdb.default_catalog()`)."""
    served = catalog if catalog is not None else llmdb.default_catalog()

    async def healthz(request: Request) -> Response:
        try:
            info = served.info()
        except LLMDBError as exc:
            return error(exc)
        return json({"status": "ok", "epoch": info.get("epoch"), "content_hash": info.get("content_hash")})

    async def models(request: Request) -> Response:
        query = openai.query(request.query_params)
        found = served.models(query.pop("provider", None), **query)
        return json({"object": "list", "data": [openai.model(m) for m in found]})

    async def model(request: Request) -> Response:
        return json(openai.model(served.get(request.path_params["name"])))

    async def on_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LLMDBError)
        return error(exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return json({"error": {"type": "HTTPError", "message": exc.detail}}, exc.status_code)

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/v1/models", models),
            Route("/v1/models/{name:path}", model),
        ],
        exception_handlers={LLMDBError: on_error, HTTPException: on_http},
        middleware=[Middleware(Bounded)],
    )
    return app


class Bounded:
    """Refuses a query string over `MAX_QUERY` bytes (414, JSON) before any route reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and len(scope.get("query_string", b"")) > MAX_QUERY:
            message = f"query string over {MAX_QUERY} bytes"
            await json({"error": {"type": "HTTPError", "message": message}}, 414)(scope, receive, send)
            return
        await self.app(scope, receive, send)
