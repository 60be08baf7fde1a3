"""OpenAI's model list (`client.models.list()`, `client.models.retrieve(...)`): `/v1/models` and
`/v1/models/{name}`, each model carrying llmdb's answers under `llmdb` beside OpenAI's own fields."""

from __future__ import annotations

import calendar
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from llmdb import Catalog
from llmdb.schema import Model
from llmdb.serve.params import MODELS, query
from llmdb.serve.responses import json


def routes(catalog: Catalog) -> list[Route]:
    """The `/v1` routes over `catalog`."""

    async def models(request: Request) -> Response:
        found = catalog.models(**query(request.query_params, MODELS))
        return json({"object": "list", "data": [model(m) for m in found]})

    async def one(request: Request) -> Response:
        return json(model(catalog.get(request.path_params["name"])))

    return [Route("/v1/models", models), Route("/v1/models/{name:path}", one)]


def model(m: Model) -> dict[str, Any]:
    """OpenAI's model object (`id`, `object`, `created`, `owned_by`) and llmdb's model under `llmdb`."""
    return {
        "id": m.spec,
        "object": "model",
        "created": _created(m.release_date),
        "owned_by": m.provider,
        "llmdb": msgspec.to_builtins(m),
    }


def _created(day: str | None) -> int:
    """The release date as Unix time (OpenAI's `created`), 0 when unknown."""
    if not day:
        return 0
    parts = [int(p) for p in day.split("-")] + [1, 1]
    return calendar.timegm((parts[0], parts[1], parts[2], 0, 0, 0, 0, 0, 0))
