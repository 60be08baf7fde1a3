"""The catalog over HTTP: an ASGI application (Starlette) that reads the snapshot as any reader does, so a publish
is served at once and every worker shares the file's pages (docs/serve.md). Needs the `serve` extra.

`create_app(catalog)` builds it; `app` is one over the default catalog (`uvicorn llmdb.serve:app`); `llmdb serve`
runs it under uvicorn. Routes: `/healthz`, OpenAI's model list (`/v1/models`, `openai`) and the JSON API (`/api/...`,
`api`).
"""

from __future__ import annotations

from llmdb.serve.app import create_app

__all__ = ["app", "create_app"]


def __getattr__(name: str) -> object:
    """`app`, made on first use: importing the package builds nothing."""
    if name == "app":
        found = globals()["app"] = create_app()
        return found
    raise AttributeError(f"module 'llmdb.serve' has no attribute {name!r}")
