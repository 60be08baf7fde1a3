"""Validate stage: every fragment against `llmdb.schema`, dropping what is invalid and saying why.

A patch fragment with a bad value is ignored whole, so the lower sources' values for that model stay in
effect. An upstream record loses only its bad fields (a typo in one date must not remove a model); it is
dropped whole only when the problem is not in a field that can be removed.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from llmdb.schema import Model, Provider
from llmdbd.engine.checked import MAX_STRING, CheckedModel, CheckedProvider
from llmdbd.engine.layer import DELETE, Fragment, Layer

MAX_DEPTH = 32
"""Deepest nesting of tables and lists accepted in a record."""

_PATH = re.compile(r" - at `\$(.*)`$")
_MAX_REPAIRS = 16


def validate(layer: Layer) -> None:
    """Drop invalid fragments from `layer`, recording one report entry per fragment dropped.

    An atomic layer (a patch file, the config's overrides, a code module) with any error is emptied whole."""
    kept = []
    for frag in layer.fragments:
        for _ in range(_MAX_REPAIRS):
            problem = check_fragment(frag)
            if problem is None:
                kept.append(frag)
                break
            path, reason = problem
            repaired = frag.full and path is not None and _drop_field(frag.data, path)
            what = "field dropped" if repaired else "record dropped" if frag.full else None
            layer.issue(
                "validate",
                reason + (f"; {what}" if what else "") + (f" ({frag.where})" if frag.where else ""),
                severity="warning" if repaired else "error",
                provider=frag.provider,
                model=frag.model,
                field=path,
            )
            if not repaired:
                break
    layer.fragments = kept
    errors = sum(1 for i in layer.issues if i.severity == "error")
    if layer.atomic and errors:
        what = "file" if layer.info.kind == "patch" else "source"
        layer.issue("validate", f"{what} not applied: {errors} error(s) in it; nothing of it is used")
        layer.fragments, layer.excludes = [], []


def check_fragment(frag: Fragment) -> tuple[str | None, str] | None:
    """The first problem with a fragment as (field path, reason), or None when it is valid.

    Typed fields are bounded by the schema (string lengths, shallow tables); only `extra` is free-form, so
    only it is walked for depth and size.
    """
    extra = frag.data.get("extra")
    if isinstance(extra, dict):
        problem = _check_sizes(extra, "extra", 2)
        if problem is not None:
            return problem
    data = frag.data if frag.full else _without_deletes(frag.data)
    unknown = _unknown_key(data, Provider if frag.model is None else Model)
    if unknown is not None:
        return unknown, "unknown field"
    try:
        if frag.model is None:
            msgspec.convert({**data, "id": frag.provider}, CheckedProvider)
        else:
            msgspec.convert({**data, "spec": "-", "id": frag.model, "provider": frag.provider}, CheckedModel)
    except msgspec.ValidationError as exc:
        return split_error(str(exc))
    return None


def _drop_field(data: dict[str, Any], path: str) -> bool:
    """Remove the field at `path` (a list item removes its whole list); False if it is not there."""
    keys = path.split("[", 1)[0].split(".")
    for key in keys[:-1]:
        data = data.get(key)  # type: ignore[assignment]
        if not isinstance(data, dict):
            return False
    return data.pop(keys[-1], _MISSING) is not _MISSING


_MISSING = object()


def split_error(message: str) -> tuple[str | None, str]:
    """msgspec's `Expected int, got str - at $.limits.context` → (`limits.context`, `Expected int, got str`)."""
    match = _PATH.search(message)
    if match is None:
        return None, message
    path = match.group(1).lstrip(".")
    return path or None, message[: match.start()]


def _check_sizes(value: Any, path: str, depth: int) -> tuple[str | None, str] | None:
    if depth > MAX_DEPTH:
        return path or None, f"nested deeper than {MAX_DEPTH} levels"
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list, str)):
                problem = _check_sizes(item, f"{path}.{key}" if path else str(key), depth + 1)
                if problem is not None:
                    return problem
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, (dict, list, str)):
                problem = _check_sizes(item, f"{path}[{i}]", depth + 1)
                if problem is not None:
                    return problem
    elif isinstance(value, str) and len(value) > MAX_STRING:
        return path or None, f"string of {len(value)} characters is longer than {MAX_STRING}"
    return None


def _without_deletes(data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in data.items():
        if value == DELETE:
            continue
        out[key] = _without_deletes(value) if isinstance(value, dict) and key != "extra" else value
    return out


def _struct_keys(cls: type) -> dict[str, Any]:
    """Field name → nested struct's key tree (or None for a leaf), read off the schema itself."""
    tree: dict[str, Any] = {}
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    for f in info.fields:
        tree[f.encode_name] = _nested(f.type)
    return tree


def _nested(t: msgspec.inspect.Type) -> dict[str, Any] | None:
    if isinstance(t, msgspec.inspect.StructType):
        return _struct_keys(t.cls)
    if isinstance(t, msgspec.inspect.UnionType):
        for member in t.types:
            sub = _nested(member)
            if sub is not None:
                return sub
    return None


_KEYS: dict[type, dict[str, Any]] = {Model: _struct_keys(Model), Provider: _struct_keys(Provider)}


def _unknown_key(data: dict[str, Any], cls: type) -> str | None:
    """The path of the first key the schema does not have (msgspec would silently ignore it)."""
    return _walk_keys(data, _KEYS[cls], "")


def _walk_keys(data: dict[str, Any], tree: dict[str, Any], prefix: str) -> str | None:
    for key, value in data.items():
        if key not in tree:
            return prefix + key
        sub = tree[key]
        if sub is not None and isinstance(value, dict):
            found = _walk_keys(value, sub, f"{prefix}{key}.")
            if found is not None:
                return found
    return None
