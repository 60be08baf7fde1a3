"""Local patch files (`*.json`, `*.toml`) and config overrides: partial records that refine the catalog.

A patch is all or nothing: any error in a file (syntax, an unknown key, a wrong type) keeps the whole file
out of the build, so an operator never gets half of an edit. The format is documented in docs/merging.md.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from llmdb.schema import SourceInfo
from llmdbd.engine.layer import Fragment, Layer
from llmdbd.engine.merge import Addition
from llmdbd.engine.validate import shown
from llmdbd.sources.fields import Unknown, copy_tables, model_fields, provider_fields

SUFFIXES = (".json", ".toml")
TOP_LEVEL = frozenset({"provider", "models", "exclude"})


def load_dirs(dirs: Iterable[str | Path]) -> list[Layer]:
    """One layer per patch file in `dirs`, in file-name order (then directory order for equal names)."""
    files, layers = list_files(dirs)
    return layers + [load_file(p) for p in files]


def list_files(dirs: Iterable[str | Path]) -> tuple[list[Path], list[Layer]]:
    """The patch files of `dirs` in the order they apply, and a layer reporting each unlistable directory."""
    found: list[tuple[str, int, Path]] = []
    problems: list[Layer] = []
    for i, d in enumerate(dirs):
        d = Path(d)
        try:
            entries = list(d.iterdir())
        except FileNotFoundError:
            continue  # no patches yet is normal; the daemon watches for the directory to appear
        except OSError as exc:
            layer = Layer(info=SourceInfo(name="patches", kind="patch", file=str(d)), fragments=[])
            layer.issue("load", f"cannot list patch directory: {exc.strerror or exc}")
            problems.append(layer)
            continue
        found += [(p.name, i, p) for p in entries if is_patch_file(p)]
    return [p for _, _, p in sorted(found)], problems


def is_patch_file(path: Path) -> bool:
    """`*.json` / `*.toml`, not hidden (editors' swap and temp files are), and a regular file."""
    return path.suffix in SUFFIXES and not path.name.startswith(".") and path.is_file()


def load_file(path: str | Path) -> Layer:
    """Parse one patch file into a layer; problems are recorded on the layer, never raised."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return unreadable(path, exc)
    return load_data(data, path)


def unreadable(path: Path, exc: OSError) -> Layer:
    """The layer of a patch file that could not be read: no fragments, one error."""
    layer = _layer(path, None)
    layer.issue("load", f"cannot read file: {exc.strerror or exc}")
    return layer


def load_data(data: bytes, path: str | Path) -> Layer:
    """Parse patch bytes as if read from `path` (the daemon replays a file's last accepted bytes this way)."""
    path = Path(path)
    layer = _layer(path, "sha256:" + hashlib.sha256(data).hexdigest())
    try:
        doc = _decode(data, path.suffix)
    except ValueError as exc:
        layer.issue("load", str(exc))
        return layer
    fill_layer(layer, doc)
    return layer


def _layer(path: Path, version: str | None) -> Layer:
    info = SourceInfo(name=f"patch:{path.name}", kind="patch", file=str(path), version=version)
    return Layer(info=info, fragments=[], atomic=True)


def from_doc(doc: Any, *, name: str, kind: str, file: str | None = None, version: str | None = None) -> Layer:
    """A layer from an already-parsed patch document (the config file's overrides, code overrides)."""
    layer = Layer(info=SourceInfo(name=name, kind=kind, file=file, version=version), fragments=[], atomic=True)
    fill_layer(layer, doc)
    return layer


def _decode(data: bytes, suffix: str) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8: invalid byte at offset {exc.start}") from None
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"invalid TOML: {exc}") from None
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from None


def fill_layer(layer: Layer, doc: Any) -> None:
    """Add a patch document's fragments and excludes to `layer`, recording every problem found."""
    if not isinstance(doc, dict):
        layer.issue("load", f"a patch is a table with {sorted(TOP_LEVEL)}, not {type(doc).__name__}")
        return
    for key in doc:
        if key not in TOP_LEVEL:
            layer.issue("load", f"unknown top-level key {key!r} (expected one of {sorted(TOP_LEVEL)})", field=key)
    provider_id = _provider(layer, doc.get("provider"))
    models = doc.get("models", [])
    if not isinstance(models, list):
        layer.issue("load", "`models` must be a list of tables", field="models")
        models = []
    for i, entry in enumerate(models):
        _model(layer, entry, i, provider_id)
    excludes = doc.get("exclude", [])
    if not isinstance(excludes, list) or not all(isinstance(g, str) and g for g in excludes):
        layer.issue("load", "`exclude` must be a list of non-empty strings", field="exclude")
        return
    for glob in excludes:
        if provider_id is not None:
            layer.excludes.append(f"{provider_id}:{glob}")
        elif ":" in glob:
            layer.excludes.append(glob)
        else:
            layer.issue(
                "load",
                f"exclude {glob!r} needs a provider: write `provider:glob` or add a [provider] table",
                field="exclude",
            )


def _provider(layer: Layer, table: Any) -> str | None:
    if table is None:
        return None
    if not isinstance(table, dict):
        layer.issue("load", "`provider` must be a table", field="provider")
        return None
    pid = table.get("id")
    if not isinstance(pid, str) or not pid:
        layer.issue("load", "`provider.id` must be a non-empty string", field="provider.id")
        return None
    fields = {k: v for k, v in table.items() if k != "id"}
    data = _translated(layer, fields, provider_fields, "provider.", provider=pid)
    if data:
        layer.fragments.append(Fragment(provider=pid, model=None, data=data, where="provider"))
    return pid


def _model(layer: Layer, entry: Any, index: int, provider_id: str | None) -> None:
    where = f"models[{index}]"
    if not isinstance(entry, dict):
        layer.issue("load", f"{where} must be a table", field=where)
        return
    entry = dict(entry)
    spec, pid, mid = entry.pop("spec", None), entry.pop("provider", None), entry.pop("id", None)
    new = entry.pop("new", False)
    if isinstance(spec, str) and ":" in spec:
        pid, _, mid = spec.partition(":")
    elif spec is not None:
        layer.issue("load", f"{where}.spec must be `provider:model-id`, got {spec!r}", field=f"{where}.spec")
        return
    pid = pid if pid is not None else provider_id
    if not isinstance(pid, str) or not pid or not isinstance(mid, str) or not mid:
        layer.issue("load", f"{where} needs `spec` (`provider:id`), or `id` with a provider", field=where, model=mid)
        return
    if not isinstance(new, bool):
        layer.issue(
            "load",
            f"{where}.new: must be true or false, got {shown(new)}",
            provider=pid,
            model=mid,
            field=f"{where}.new",
        )
    data = _translated(layer, entry, model_fields, f"{where}.", provider=pid, model=mid)
    kind = Addition if new is True else Fragment
    layer.fragments.append(kind(provider=pid, model=mid, data=data, where=where, order=index + 1))


def _translated(layer: Layer, raw: dict[str, Any], translate: Any, prefix: str, **where: str) -> dict[str, Any]:
    """`translate(raw, strict=True)` (models.dev names → llmdb's), reporting every unknown key, not just the
    first: each is reported and left out, so validate still checks the rest of the entry (a file with any of
    them is not applied)."""
    for _ in range(1000):
        try:
            data: dict[str, Any] = translate(raw, strict=True)
            return data
        except Unknown as exc:
            layer.issue("load", f"{prefix}{exc.path}: {exc.reason} {exc.path!r}", field=prefix + exc.path, **where)
            raw = copy_tables(raw)
            *parents, last = exc.path.split(".")
            table: Any = raw
            for key in parents:
                table = table.get(key) if isinstance(table, dict) else None
            if not isinstance(table, dict) or last not in table:
                return {}
            del table[last]
    return {}
