"""What every upstream catalog file shares: reading it, its version stamp, and its top-level JSON object.

A file that cannot be read or decoded becomes a layer holding only the error, so the build reports it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from llmdb.schema import SourceInfo
from llmdbd.engine.layer import Layer


def read(path: str | Path, name: str, load_bytes: Callable[..., Layer], origin: str | None) -> Layer:
    """`load_bytes` of the file at `path`, recorded as `origin` when given (e.g. the URL it came from)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        layer = Layer(info=SourceInfo(name=name, kind="upstream", file=str(path)), fragments=[])
        layer.issue("load", f"cannot read file: {exc.strerror or exc}")
        return layer
    return load_bytes(data, file=origin or str(path))


def decode(
    data: bytes, name: str, *, file: str | None, version: str | None, holding: str, kind: type = dict
) -> tuple[Layer, Any]:
    """An empty layer stamped with `version` (default: the sha256 of `data`) and the decoded JSON object; None
    instead of the object when `data` is not one (the layer then says why; `holding` names what it should hold)."""
    stamp = version or "sha256:" + hashlib.sha256(data).hexdigest()
    layer = Layer(info=SourceInfo(name=name, kind="upstream", file=file, version=stamp), fragments=[])
    try:
        doc = msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        layer.issue("load", f"not valid JSON: {exc}")
        return layer, None
    if not isinstance(doc, kind):
        what = "an object" if kind is dict else "a list"
        layer.issue("load", f"expected {what} of {holding}, got {type(doc).__name__}")
        return layer, None
    return layer, doc
