"""The same `/models/<spec>` route answered from LiteLLM's `get_model_info`, for the memory comparison in bench/."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
import litellm

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    spec = unquote(environ.get("PATH_INFO", "")[len("/models/") :])
    try:
        status, body = "200 OK", json.dumps(litellm.get_model_info(spec.split(":", 1)[-1]), default=str).encode()
    except Exception as exc:  # LiteLLM raises plain Exceptions for unknown models
        status, body = "404 Not Found", json.dumps({"error": str(exc)}).encode()
    start_response(status, [("Content-Type", "application/json"), ("X-Worker-Pid", str(os.getpid()))])
    return [body]
