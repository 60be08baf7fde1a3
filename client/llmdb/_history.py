"""Reading the history database beside a snapshot (contract.HISTORY_SCHEMA), and diffing two snapshot files.

`sqlite3` is imported when a history is first read, not by `import llmdb` (DEVELOPERS.md: the client stays light)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import Struct

from llmdb import contract
from llmdb._snapshot import Snapshot
from llmdb.errors import HistoryError, InvalidQuery

if TYPE_CHECKING:
    import sqlite3


class Change(Struct, frozen=True, kw_only=True):
    """One event of the history: a model or provider introduced or removed, or a field's value changed."""

    at: str
    """When the catalog that made the change took effect (its publish, or the imported file's date), UTC."""
    epoch: int | None
    """The daemon's epoch of that catalog (None for a catalog replayed by `llmdbd history import`)."""
    content_hash: str
    kind: str
    """`introduced`, `changed`, `removed`, `provider_introduced` or `provider_removed`."""
    spec: str
    """The model's spec, or the provider's id."""
    field: str | None = None
    """The field path (`cost.input`) for `changed`, and for the others when the question named fields."""
    old: Any = None
    new: Any = None
    source: str | None = None
    """Where the new value came from (the source's name), when the history knows."""


class FieldChange(Struct, frozen=True, kw_only=True):
    field: str
    old: Any = None
    new: Any = None


class CatalogDiff(Struct, frozen=True, kw_only=True):
    """What differs from one catalog to another: models added and removed, field changes of the others."""

    old: str
    new: str
    added: list[str]
    removed: list[str]
    changed: dict[str, list[FieldChange]]
    """Spec → its changed fields, sorted by path."""
    providers_added: list[str]
    providers_removed: list[str]


def connect(path: Path) -> sqlite3.Connection:
    """The history database at `path`, read-only; `HistoryError` naming the file when there is none."""
    import sqlite3

    if not path.is_file():
        raise HistoryError(f"{path}: no history here (the daemon writes one beside its catalog)")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as exc:
        raise HistoryError(f"{path}: cannot read the history: {exc}") from None
    if version != contract.HISTORY_VERSION:
        conn.close()
        raise HistoryError(f"{path}: history version {version}, this llmdb reads {contract.HISTORY_VERSION}")
    return conn


_EVENTS = """SELECT v.at, v.epoch, v.content_hash, e.kind, e.spec, e.field, e.old, e.new, e.source
FROM events e JOIN versions v ON v.id = e.version"""


def timeline(path: Path, spec: str, field: str | None = None) -> list[Change]:
    """Every event of model (or provider) `spec`, oldest first; with `field` (a path or a glob, `cost.*`), only
    that field's values: an introduction or removal gives the field's value then."""
    return _query(path, f"{_EVENTS} WHERE e.spec = ? ORDER BY v.id, e.rowid", (spec,), field)


def changes_since(path: Path, since: float, provider: str | None = None, field: str | None = None) -> list[Change]:
    """Every event of catalogs that took effect at or after `since` (unix time), oldest first."""
    sql = f"{_EVENTS} WHERE v.at >= ?"
    args: list[Any] = [since]
    if provider is not None:
        sql += " AND (e.spec = ? OR e.spec LIKE ? ESCAPE '\\')"
        args += [provider, _like_prefix(provider) + ":%"]
    return _query(path, sql + " ORDER BY v.id, e.rowid", args, field)


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _query(path: Path, sql: str, args: Iterable[Any], field: str | None) -> list[Change]:
    import sqlite3

    conn = connect(path)
    try:
        rows = conn.execute(sql, tuple(args)).fetchall()
    except sqlite3.Error as exc:
        raise HistoryError(f"{path}: cannot read the history: {exc}") from None
    finally:
        conn.close()
    out: list[Change] = []
    for at, epoch, content_hash, kind, spec, path_, old, new, source in rows:
        when = contract.iso(at) or ""
        base = {"at": when, "epoch": epoch, "content_hash": content_hash, "kind": kind, "spec": spec}
        if kind == "changed":
            if field is None or fnmatch.fnmatchcase(path_, field):
                out.append(Change(**base, field=path_, old=_value(old), new=_value(new), source=source))
        elif field is None:
            out.append(Change(**base))
        else:  # a whole model in or out: the fields asked for, as they were then
            flat = _value(new if kind.endswith("introduced") else old) or {}
            for name in sorted(n for n in flat if fnmatch.fnmatchcase(n, field)):
                value = flat[name]
                out.append(
                    Change(**base, field=name, **({"old": value} if kind.endswith("removed") else {"new": value}))
                )
    return out


def _value(text: str | None) -> Any:
    return None if text is None else msgspec.json.decode(text)


def parse_time(value: str | date | datetime | float) -> float:
    """A `--since` or `at=` value as unix time: a datetime (naive means UTC), a date, ISO text, or a number."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidQuery(
                f"{value!r} is not a date or time (use ISO 8601: 2026-07-01 or 2026-07-01T12:00Z)"
            ) from None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def diff(old: Snapshot, new: Snapshot) -> CatalogDiff:
    """Every model of two snapshot files compared: equal models are skipped before they are flattened."""
    old_specs, new_specs = old.specs, new.specs
    new_set, old_set = set(new_specs), set(old_specs)
    changed: dict[str, list[FieldChange]] = {}
    for spec in new_specs:
        if spec in old_set:
            before, after = old.model(spec), new.model(spec)
            if before is not None and after is not None and before != after:
                fields = contract.field_changes(contract.flatten(before), contract.flatten(after))
                if fields:
                    changed[spec] = [FieldChange(field=f, old=o, new=n) for f, o, n in fields]
    old_providers, new_providers = {p.id for p in old.providers}, {p.id for p in new.providers}
    return CatalogDiff(
        old=str(old.path),
        new=str(new.path),
        added=[s for s in new_specs if s not in old_set],
        removed=[s for s in old_specs if s not in new_set],
        changed=changed,
        providers_added=sorted(new_providers - old_providers),
        providers_removed=sorted(old_providers - new_providers),
    )
