"""The history database: its schema, and the field paths of models and providers (`flatten`), folded back
(`replay`) by the daemon that records and the client that reads."""

from collections.abc import Iterable
from typing import Any

import msgspec
from msgspec import Struct

from llmdb.errors import HistoryError
from llmdb.schema import Model

HISTORY_FILE = "history.sqlite3"
"""What changed at each publish, beside the snapshot it describes (a state directory, or the packaged library)."""
HISTORY_VERSION = 1
"""`PRAGMA user_version` of a history database this library reads and writes."""
HISTORY_SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY,         -- recording order
    epoch INTEGER UNIQUE,           -- the daemon's epoch; NULL for a catalog replayed by `history import`
    content_hash TEXT NOT NULL,
    at REAL NOT NULL,               -- unix time the catalog took effect: its publish, or the imported file's date
    origin TEXT NOT NULL            -- `publish`, or `import <files>`
);
CREATE TABLE IF NOT EXISTS events (
    version INTEGER NOT NULL REFERENCES versions (id),
    kind TEXT NOT NULL,             -- one of EVENT_KINDS
    spec TEXT NOT NULL,             -- the model's spec, or the provider's id
    field TEXT,                     -- `changed`: the field path (`cost.input`)
    old TEXT,                       -- JSON; `removed`: the model as it was, flattened
    new TEXT,                       -- JSON; `introduced`: the model, flattened (see `flatten`)
    source TEXT                     -- where the new value came from (provenance), when known
);
CREATE INDEX IF NOT EXISTS events_spec ON events (spec, version);
CREATE INDEX IF NOT EXISTS events_version ON events (version);
"""
"""One transaction per recorded catalog writes its `versions` row and all its events."""
EVENT_KINDS = ("introduced", "changed", "removed", "provider_introduced", "provider_removed")


def flatten(value: Struct) -> dict[str, Any]:
    """A model (or provider) as field path → value, for the history: nested structs become dotted paths
    (`cost.input`); other values are leaves as JSON-able builtins. Unset values (None, empty) are left out, so
    `unflatten` gives the same model back."""
    out: dict[str, Any] = {}
    _flatten(value, "", out)
    return out


def _flatten(value: Struct, prefix: str, out: dict[str, Any]) -> None:
    for name in value.__struct_fields__:
        item = getattr(value, name)
        if isinstance(item, Struct):
            _flatten(item, f"{prefix}{name}.", out)
        elif item is not None and item != () and item != {}:
            leaf = msgspec.to_builtins(item)
            out[prefix + name] = list(leaf) if isinstance(leaf, tuple) else leaf  # as JSON gives it back


def unflatten(flat: dict[str, Any], type_: type[Any] = Model) -> Any:
    """`flatten`'s inverse: the struct of `type_` the field paths describe."""
    tree: dict[str, Any] = {}
    for path, item in flat.items():
        *parents, leaf = path.split(".")
        table = tree
        for part in parents:
            table = table.setdefault(part, {})
        table[leaf] = item
    return msgspec.convert(tree, type_)


def replay(
    rows: Iterable[tuple[str, str, str | None, str | None]],
    models: dict[str, dict[str, Any]],
    providers: dict[str, dict[str, Any]],
) -> None:
    """Apply history events (kind, spec, field, new value as JSON) in order to flattened `models` and
    `providers`: the catalog as of the last event. One fold, shared by the daemon and the client.
    `HistoryError` naming the event when a value cannot be read back (a damaged database)."""
    for kind, spec, field, new in rows:
        if kind == "introduced":
            models[spec] = _flat_value(kind, spec, new)
        elif kind == "removed":
            models.pop(spec, None)
        elif kind == "changed" and field is not None:
            flat = models.setdefault(spec, {})
            if new is None:
                flat.pop(field, None)
            else:
                flat[field] = event_value(new, f"the {field} change of {spec}")
        elif kind == "provider_introduced":
            providers[spec] = _flat_value(kind, spec, new)
        elif kind == "provider_removed":
            providers.pop(spec, None)


def event_value(text: str, what: str) -> Any:
    """A value stored in the history (JSON); `HistoryError` naming `what` when it is not JSON."""
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise HistoryError(f"{what} holds no JSON value ({exc}): the history is damaged") from None


def _flat_value(kind: str, spec: str, text: str | None) -> dict[str, Any]:
    value = event_value(text or "{}", f"the {kind} event of {spec}")
    if not isinstance(value, dict):
        raise HistoryError(f"the {kind} event of {spec} holds no object: the history is damaged")
    return value


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(path, old value, new value) for every path whose value differs between two flattened models, sorted;
    None where a side has no value."""
    return [(p, old.get(p), new.get(p)) for p in sorted(old.keys() | new.keys()) if old.get(p) != new.get(p)]
