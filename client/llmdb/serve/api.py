"""The JSON API (`/api/...`): `llmdb`'s questions as routes, each body the schema's JSON (what the CLI's `--json`
prints); `/api/models` paginated (`offset=`, `limit=`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from llmdb import Catalog
from llmdb.errors import InvalidQuery
from llmdb.serve.params import HOSTS, MODELS, SELECT, query
from llmdb.serve.responses import json

PAGE = 100
"""Models per page of `/api/models` unless `limit=` says (1 to `MAX_PAGE`)."""
MAX_PAGE = 1000


def routes(catalog: Catalog) -> list[Route]:
    """The `/api` routes over `catalog`."""

    async def models(request: Request) -> Response:
        asked = query(request.query_params, MODELS | {"offset", "limit"})
        offset, limit = _page(asked.pop("offset", None), asked.pop("limit", None))
        found = catalog.models(**asked)
        return json({"total": len(found), "offset": offset, "limit": limit, "data": found[offset : offset + limit]})

    async def model(request: Request) -> Response:
        return json(catalog.get(request.path_params["name"]))

    async def resolve(request: Request) -> Response:
        name = request.path_params["name"]
        found = catalog.resolve_name(name)
        return json({"name": name, "spec": found.spec, "rule": found.rule, "note": found.note or None})

    async def hosts(request: Request) -> Response:
        return json(list(catalog.hosts(request.path_params["name"], **query(request.query_params, HOSTS))))

    async def select(request: Request) -> Response:
        return json(catalog.select(**query(request.query_params, SELECT)))

    async def providers(request: Request) -> Response:
        return json(catalog.providers())

    async def info(request: Request) -> Response:
        return json(catalog.info())

    return [
        Route("/api/models", models),
        Route("/api/models/{name:path}", model),
        Route("/api/resolve/{name:path}", resolve),
        Route("/api/hosts/{name:path}", hosts),
        Route("/api/select", select),
        Route("/api/providers", providers),
        Route("/api/info", info),
    ]


def _page(offset: str | None, limit: str | None) -> tuple[int, int]:
    """`offset=` and `limit=` read: whole numbers, a limit of 1 to `MAX_PAGE` (else `InvalidQuery`)."""
    try:
        start = int(offset) if offset is not None else 0
        size = int(limit) if limit is not None else PAGE
    except ValueError:
        raise InvalidQuery(f"offset={offset!r}, limit={limit!r}: expected whole numbers") from None
    if start < 0 or not 1 <= size <= MAX_PAGE:
        raise InvalidQuery(f"offset must be >= 0 and limit from 1 to {MAX_PAGE} (offset={start}, limit={size})")
    return start, size
