"""Validate stage: every fragment against `llmdb.schema`, dropping what is invalid and saying why.

A patch fragment with a bad value is ignored whole, so the lower sources' values for that model stay in
effect. An upstream record loses only its bad fields (a typo in one date must not remove a model); it is
dropped whole only when the problem is not in a field that can be removed.
"""

from __future__ import annotations

import re
from typing import Any, get_args

import msgspec

from llmdb.schema import Model, Provider, Status
from llmdbd.engine import checked
from llmdbd.engine.checked import MAX_STRING, CheckedModel, CheckedProvider
from llmdbd.engine.layer import DELETE, Fragment, Layer

MAX_DEPTH = 32
"""Deepest nesting of tables and lists accepted in a record."""

_PATH = re.compile(r" - at `\$(.*)`$")
_MAX_REPAIRS = 16
_MAX_PROBLEMS = 64
"""Problems reported per patch fragment at most (each costs a conversion)."""
STATUSES = get_args(Status)


def validate(layer: Layer) -> None:
    """Drop invalid fragments from `layer`, recording every problem of each (not just the first).

    An upstream record loses its bad fields (warnings) and is dropped only when a problem cannot be removed; a
    patch fragment with any problem is dropped. An atomic layer (a patch file, the config's overrides, a code
    module) with any error is emptied whole."""
    kept = []
    for frag in layer.fragments:
        if _repaired(layer, frag) if frag.full else _checked(layer, frag):
            kept.append(frag)
    layer.fragments = kept
    errors = sum(1 for i in layer.issues if i.severity == "error")
    if layer.atomic and errors:
        what = "file" if layer.info.kind == "patch" else "source"
        layer.issue("validate", f"{what} not applied: {errors} error(s) in it; nothing of it is used")
        layer.fragments, layer.excludes = [], []


def _repaired(layer: Layer, frag: Fragment) -> bool:
    """An upstream record with its bad fields dropped, one warning each; False when it cannot be repaired."""
    for _ in range(_MAX_REPAIRS):
        problem = check_fragment(frag)
        if problem is None:
            return True
        path, reason = problem
        repaired = path is not None and _drop_field(frag.data, path)
        layer.issue(
            "validate",
            reason
            + ("; field dropped" if repaired else "; record dropped")
            + (f" ({frag.where})" if frag.where else ""),
            severity="warning" if repaired else "error",
            provider=frag.provider,
            model=frag.model,
            field=path,
        )
        if not repaired:
            return False
    return False


def _checked(layer: Layer, frag: Fragment) -> bool:
    """True when a patch fragment is valid; else one error per problem, each as a person would say it
    (`models[0].cost.input: must be ≥ 0, got -1`)."""
    found = problems(frag)
    prefix = f"{frag.where}." if frag.where else ""
    for path, reason in found:
        layer.issue(
            "validate",
            f"{prefix}{path}: {reason}" if path else f"{frag.where or 'record'}: {reason}",
            provider=frag.provider,
            model=frag.model,
            field=path,
        )
    return not found


def problems(frag: Fragment) -> list[tuple[str | None, str]]:
    """Every problem of a fragment as (field path, reason in plain words): each one found is taken out of a
    copy and the rest checked again, so a file's author sees them all at once."""
    data = _copy(frag.data if frag.full else _without_deletes(frag.data))
    found: list[tuple[str | None, str]] = []
    extra = data.get("extra")
    if isinstance(extra, dict):
        found += _sizes(extra, "extra", 2)
    unknown = _unknown_keys(data, Provider if frag.model is None else Model)
    found += [(path, "unknown field") for path in unknown]
    for path, _ in found:
        if path is not None:
            _drop_field(data, path)
    for _ in range(_MAX_PROBLEMS):
        problem = _convert(frag, data)
        if problem is None:
            break
        path, reason = problem
        found.append((path, plain(reason, _value_at(data, path))))
        if path is None or not _drop_field(data, path):
            break
    return found


def check_fragment(frag: Fragment) -> tuple[str | None, str] | None:
    """The first problem with a fragment as (field path, reason), or None when it is valid.

    Typed fields are bounded by the schema (string lengths, shallow tables); only `extra` is free-form, so
    only it is walked for depth and size.
    """
    extra = frag.data.get("extra")
    if isinstance(extra, dict):
        for problem in _sizes(extra, "extra", 2):
            return problem
    data = frag.data if frag.full else _without_deletes(frag.data)
    for unknown in _unknown_keys(data, Provider if frag.model is None else Model):
        return unknown, "unknown field"
    return _convert(frag, data)


def _convert(frag: Fragment, data: dict[str, Any]) -> tuple[str | None, str] | None:
    try:
        if frag.model is None:
            msgspec.convert({**data, "id": frag.provider}, CheckedProvider)
        else:
            msgspec.convert({**data, "spec": "-", "id": frag.model, "provider": frag.provider}, CheckedModel)
    except msgspec.ValidationError as exc:
        return split_error(str(exc))
    return None


_TYPES = {
    "int": "a whole number",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
    "object": "a table",
    "array": "a list",
}
_PATTERNS = {
    repr(checked.PARTIAL_DATE): "a date written YYYY, YYYY-MM or YYYY-MM-DD",
    repr(checked.LOWER_NAME): "lower-case letters, digits and _, starting with a letter",
}
_EXPECTED = re.compile(r"^Expected `(?P<type>[^`]+)`(?P<rest>.*)$")
_BOUND = re.compile(r"^ (?P<op>>=|<=|>|<) (?P<bound>\S+)$")
_LENGTH = re.compile(r"^ of length (?P<op>>=|<=) (?P<bound>\d+)$")
_OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}


def plain(reason: str, value: Any) -> str:
    """msgspec's "Expected float >= 0.0" (and kin) as a person would say it: `must be ≥ 0, got -1`."""
    got = f", got {shown(value)}"
    if reason.startswith("Invalid enum value"):
        return f"must be one of {', '.join(STATUSES)}{got}"
    if reason.startswith("Object missing required field"):
        return "missing " + reason.removeprefix("Object missing required field ")
    match = _EXPECTED.match(reason)
    if match is None:
        return reason
    kinds = [k for k in match["type"].split(" | ") if k != "null"]
    wanted = " or ".join(_TYPES.get(k, k) for k in kinds)
    rest = match["rest"]
    if rest.startswith(", got "):
        return f"must be {wanted}{got}"
    if bound := _BOUND.match(rest):
        number = bound["bound"].removesuffix(".0")
        return f"must be {_OPS[bound['op']]} {number}{got}"
    if length := _LENGTH.match(rest):
        if length["op"] == ">=" and length["bound"] == "1":
            return "must not be empty"
        size = len(value) if isinstance(value, str) else "?"
        return f"must be at most {length['bound']} characters long, got {size}"
    if rest.startswith(" matching regex "):
        pattern = rest.removeprefix(" matching regex ")
        return f"must be {_PATTERNS.get(pattern, 'a string matching ' + pattern)}{got}"
    return reason


def shown(value: Any) -> str:
    """A value as its JSON, cut at 60 characters, for messages."""
    try:
        text = msgspec.json.encode(value).decode()
    except (TypeError, msgspec.EncodeError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _value_at(data: Any, path: str | None) -> Any:
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path or ""):
        if part.startswith("["):
            index = int(part[1:-1])
            data = data[index] if isinstance(data, list) and index < len(data) else None
        else:
            data = data.get(part) if isinstance(data, dict) else None
    return data


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


def _sizes(value: Any, path: str, depth: int) -> list[tuple[str | None, str]]:
    """Every string over `MAX_STRING` and every table or list nested deeper than `MAX_DEPTH` in `value`."""
    if depth > MAX_DEPTH:
        return [(path or None, f"nested deeper than {MAX_DEPTH} levels")]
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    found = []
    for key, item in items:
        sub = f"{path}[{key}]" if isinstance(value, list) else f"{path}.{key}" if path else str(key)
        if isinstance(item, (dict, list)):
            found += _sizes(item, sub, depth + 1)
        elif isinstance(item, str) and len(item) > MAX_STRING:
            found.append((sub, f"string of {len(item)} characters is longer than {MAX_STRING}"))
    return found


def _copy(value: Any) -> Any:
    """Nested dicts and lists copied, so checking can take fields out without touching the fragment."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


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


def _unknown_keys(data: dict[str, Any], cls: type) -> list[str]:
    """The paths of the keys the schema does not have (msgspec would silently ignore them)."""
    return _walk_keys(data, _KEYS[cls], "")


def _walk_keys(data: dict[str, Any], tree: dict[str, Any], prefix: str) -> list[str]:
    found = []
    for key, value in data.items():
        if key not in tree:
            found.append(prefix + key)
            continue
        sub = tree[key]
        if sub is not None and isinstance(value, dict):
            found += _walk_keys(value, sub, f"{prefix}{key}.")
    return found
