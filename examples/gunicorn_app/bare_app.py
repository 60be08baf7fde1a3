"""A WSGI app that reads no catalog: the baseline worker for the memory comparison in bench/."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "application/json"), ("X-Worker-Pid", str(os.getpid()))])
    return [b"{}"]
