"""Bodies: the schema's JSON (as the CLI's `--json` prints it), and every `LLMDBError` as a JSON error with the
status that fits (never a traceback or an HTML page)."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response

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
    """`body` as the schema's JSON."""
    return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")


def failure(kind: str, message: str, status: int) -> Response:
    """`{"error": {"type", "message"}}`: an error that is no `LLMDBError` (an unknown path, a long query)."""
    return json({"error": {"type": kind, "message": message}}, status)


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
