"""The ASGI application: the routes of each part (`openai`, `api`), `/healthz`, a bound on query strings, and
every error as JSON (`responses`)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

import llmdb
from llmdb import Catalog
from llmdb.errors import LLMDBError
from llmdb.serve import api, openai
from llmdb.serve.responses import error, failure, json

MAX_QUERY = 4096
"""Bytes of query string a request may carry: every filter fits in far less."""


def create_app(catalog: Catalog | None = None) -> Starlette:
    """The application over `catalog` (default: the process-wide one, `llmdb.default_catalog()`)."""
    served = catalog if catalog is not None else llmdb.default_catalog()

    async def healthz(request: Request) -> Response:
        """200 with the served epoch and content hash while a catalog can be read; else the error (503)."""
        try:
            info = served.info()
        except LLMDBError as exc:
            return error(exc)
        return json({"status": "ok", "epoch": info.get("epoch"), "content_hash": info.get("content_hash")})

    async def on_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LLMDBError)
        return error(exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return failure("HTTPError", exc.detail, exc.status_code)

    return Starlette(
        routes=[Route("/healthz", healthz), *openai.routes(served), *api.routes(served)],
        exception_handlers={LLMDBError: on_error, HTTPException: on_http},
        middleware=[Middleware(Bounded)],
    )


class Bounded:
    """Refuses a query string over `MAX_QUERY` bytes (414, JSON) before any route reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and len(scope.get("query_string", b"")) > MAX_QUERY:
            await failure("HTTPError", f"query string over {MAX_QUERY} bytes", 414)(scope, receive, send)
            return
        await self.app(scope, receive, send)
