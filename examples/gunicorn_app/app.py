"""A WSGI app (stdlib + llmdb) answering from the catalog: every gunicorn worker maps the same snapshot file.

    LLMDB_SNAPSHOT=/var/lib/llmdb/catalog.llmdb gunicorn -w 4 examples.gunicorn_app.app:app

GET /models/<spec>                       the model's JSON
GET /select?require=tools,json_schema    {"model": ..., "trace": [...]}
Every response carries `X-Worker-Pid` and `X-Catalog-Epoch`.
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


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "")
    try:
        if path.startswith("/models/"):
            status, body = "200 OK", _JSON.encode(catalog.get(unquote(path[len("/models/") :])))
        elif path == "/select":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            require = [k for v in query.get("require", []) for k in v.split(",") if k]
            prefer = [k for v in query.get("prefer", []) for k in v.split(",") if k]
            chosen = catalog.select(require=require, prefer=prefer)
            status, body = "200 OK", _JSON.encode({"model": chosen.model, "trace": chosen.trace})
        else:
            status, body = "404 Not Found", _JSON.encode({"error": f"no route {path}"})
    except (llmdb.ModelNotFound, llmdb.NoMatch) as exc:
        status, body = "404 Not Found", _JSON.encode({"error": str(exc)})
    except (llmdb.InvalidSpec, llmdb.UnknownProvider, ValueError) as exc:
        status, body = "400 Bad Request", _JSON.encode({"error": str(exc)})
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
