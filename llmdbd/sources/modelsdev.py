"""The models.dev catalog (`api.json`): providers with their models, the lowest-precedence source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmdbd.engine.layer import Fragment, Layer
from llmdbd.sources import upstream_json
from llmdbd.sources.fields import Unknown, model_fields, provider_fields

NAME = "models.dev"
DEFAULT_URL = "https://models.dev/api.json"


def looks_like(head: bytes) -> bool:
    """An `api.json`: providers, each with its `models` table."""
    return b'"models"' in head


def load_path(path: str | Path, *, origin: str | None = None) -> Layer:
    """Read an `api.json` file; a file that cannot be read becomes a layer holding only the error.

    `origin` is recorded as the source's file instead of `path` (for snapshots built on one machine and read
    on others: the packaged catalog records the URL the file came from, not a build machine's path)."""
    return upstream_json.read(path, NAME, load_bytes, origin)


def load_bytes(data: bytes, *, file: str | None = None, version: str | None = None) -> Layer:
    """Turn an `api.json` body into one layer; `version` defaults to the sha256 of the bytes."""
    layer, doc = upstream_json.decode(data, NAME, file=file, version=version, holding="providers")
    if doc is None:
        return layer
    for key, raw in doc.items():
        _provider(layer, key, raw)
    return layer


def _provider(layer: Layer, key: str, raw: Any) -> None:
    if not isinstance(raw, dict):
        layer.issue("load", f"provider entry is {type(raw).__name__}, not an object", provider=key)
        return
    pid = raw.get("id", key)
    if not isinstance(pid, str) or not pid:
        layer.issue("load", "provider id is not a non-empty string", provider=key, field="id")
        return
    fields = {k: v for k, v in raw.items() if k not in ("id", "models")}
    layer.fragments.append(
        Fragment(provider=pid, model=None, data=provider_fields(fields, strict=False), full=True, where=key)
    )
    models = raw.get("models", {})
    if not isinstance(models, dict):
        layer.issue("load", "`models` is not an object", provider=pid, field="models")
        return
    for mkey, mraw in models.items():
        if not isinstance(mraw, dict):
            layer.issue("load", f"model entry is {type(mraw).__name__}, not an object", provider=pid, model=mkey)
            continue
        mid = mraw.get("id", mkey)
        if not isinstance(mid, str) or not mid:
            layer.issue("load", "model id is not a non-empty string", provider=pid, model=mkey, field="id")
            continue
        try:
            data = model_fields({k: v for k, v in mraw.items() if k != "id"}, strict=False)
        except Unknown as exc:
            layer.issue("load", exc.reason, provider=pid, model=mid, field=exc.path)
            continue
        layer.fragments.append(Fragment(provider=pid, model=mid, data=data, full=True, where=f"{key}.models.{mkey}"))
