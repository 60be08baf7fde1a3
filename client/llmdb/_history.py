"""Reading the history database beside a snapshot (contract.HISTORY_SCHEMA), and diffing two snapshot files.

`sqlite3` is imported when a history is first read, not by `import llmdb` (DEVELOPERS.md: the client stays light)."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import Struct

from llmdb import contract
from llmdb._snapshot import Snapshot
from llmdb._spec import clip, provider_id
from llmdb.errors import HistoryError, InvalidQuery, ModelNotFound, PriceUnknown, UnknownProfile, UnknownProvider
from llmdb.schema import Model

if TYPE_CHECKING:
    import os
    import sqlite3
    from pathlib import Path

    from llmdb._catalog import Catalog


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
    profile: str | None = None
    """The profile both files were read as (None: the base catalog)."""


class LifecycleDates(Struct, frozen=True, kw_only=True):
    """A model's lifecycle: the provider's dates from the catalog, and when the catalog first and last had it
    from the history (ISO 8601 UTC). An `introduced` equal to `history_begins` means "already there then"."""

    spec: str
    status: str | None = None
    """The catalog's status (`active`, `deprecated`, ...); `removed` when only the history knows the model."""
    introduced: str | None = None
    removed: str | None = None
    """When it left the catalog; None while it is in it."""
    last_changed: str | None = None
    """The last time one of its fields changed."""
    history_begins: str | None = None
    deprecation_date: str | None = None
    retirement_date: str | None = None
    replacement: str | None = None


def connect(path: Path) -> sqlite3.Connection:
    """The history database at `path`, read-only; `HistoryError` naming the file when there is none.

    A reader that may not write beside the database (another user than the daemon's) cannot create the
    write-ahead log's shared-memory file. While the daemon runs it holds that file open, so the read-only open
    works. When no writer has had it open since its last clean close (no log left to apply), the database file
    holds everything, and it is opened as immutable."""
    import sqlite3

    if not path.is_file():
        raise HistoryError(f"{path}: no history here (the daemon writes one beside its catalog)")
    uri = path.resolve().as_uri()
    try:
        try:
            conn = _opened(sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=5.0))
        except sqlite3.OperationalError as exc:
            try:
                pending = path.with_name(path.name + "-wal").stat().st_size > 0
            except OSError:
                pending = False
            if pending or ("readonly" not in str(exc) and "unable to open" not in str(exc)):
                raise
            conn = _opened(sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=5.0))
    except sqlite3.Error as exc:
        raise HistoryError(f"{path}: cannot read the history: {exc}") from None
    version = conn.execute("PRAGMA user_version").fetchone()[0]  # the header, read by _opened
    if version != contract.HISTORY_VERSION:
        conn.close()
        raise HistoryError(f"{path}: history version {version}, this llmdb reads {contract.HISTORY_VERSION}")
    return conn


def _opened(conn: sqlite3.Connection) -> sqlite3.Connection:
    """`conn` once it has read the schema (where a WAL database's shared memory is needed); closed if not."""
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
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


def model_at(path: Path, spec: str, at: float) -> Model:
    """Model `spec` as the catalog had it at `at` (unix time), replayed from the history. `PriceUnknown` saying
    why when the catalog had no such model then: before the history begins, before the model was introduced,
    after it was removed."""
    begins, rows = _of_model(path, spec)
    when = contract.iso(at)
    if begins is None or at < begins:
        raise PriceUnknown(f"{spec}: no price known at {when}: the history in {path} begins {contract.iso(begins)}")
    models: dict[str, dict[str, Any]] = {}
    try:
        contract.replay((row[:4] for row in rows if row[4] <= at), models, {})
    except HistoryError as exc:
        raise HistoryError(f"{path}: {exc}") from None
    flat = models.get(spec)
    if flat is None:
        later = [row[4] for row in rows if row[0] == "introduced" and row[4] > at]
        gone = [row[4] for row in rows if row[0] == "removed" and row[4] <= at]
        if gone:
            why = f"it was removed from the catalog {contract.iso(gone[-1])}"
        elif later:
            why = f"it entered the catalog {contract.iso(later[0])}"
        else:
            why = f"the history in {path} has no record of it"
        raise PriceUnknown(f"{spec}: no price known at {when}: {why}")
    try:
        model: Model = contract.unflatten(flat)
    except msgspec.ValidationError as exc:
        raise HistoryError(f"{path}: {spec} as of {when} does not fit this llmdb's schema: {exc}") from None
    return model


def _of_model(path: Path, spec: str) -> tuple[float | None, list[tuple[str, str, str | None, str | None, float]]]:
    """When the history begins, and the events of one model: (kind, spec, field, new value, at), oldest first."""
    import sqlite3

    conn = connect(path)
    try:
        begins = conn.execute("SELECT min(at) FROM versions").fetchone()[0]
        rows = conn.execute(
            "SELECT e.kind, e.spec, e.field, e.new, v.at FROM events e JOIN versions v ON v.id = e.version"
            " WHERE e.spec = ? ORDER BY v.id, e.rowid",
            (spec,),
        ).fetchall()
    except sqlite3.Error as exc:
        raise HistoryError(f"{path}: cannot read the history: {exc}") from None
    finally:
        conn.close()
    return begins, rows


def lifecycle_in(path: Path, spec: str, model: Model | None) -> LifecycleDates:
    """`model`'s lifecycle (None: a model the catalog no longer has) with its dates from the history."""
    begins, events = _of_model(path, spec)
    rows = [(row[0], row[4]) for row in events]
    introduced = next((at for kind, at in rows if kind == "introduced"), None)
    last = rows[-1] if rows else None
    changed = [at for kind, at in rows if kind == "changed"]
    life = model.lifecycle if model is not None else None
    return LifecycleDates(
        spec=spec,
        status=model.status if model is not None else ("removed" if rows else None),
        introduced=contract.iso(introduced),
        removed=contract.iso(last[1]) if last is not None and last[0] == "removed" else None,
        last_changed=contract.iso(changed[-1]) if changed else None,
        history_begins=contract.iso(begins),
        deprecation_date=life.deprecation_date if life is not None else None,
        retirement_date=life.retirement_date if life is not None else None,
        replacement=life.replacement if life is not None else None,
    )


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
    try:
        return _changes(rows, field)
    except HistoryError as exc:
        raise HistoryError(f"{path}: {exc}") from None


def _changes(rows: Iterable[tuple[Any, ...]], field: str | None) -> list[Change]:
    out: list[Change] = []
    for at, epoch, content_hash, kind, spec, path_, old, new, source in rows:
        when = contract.iso(at) or ""
        base = {"at": when, "epoch": epoch, "content_hash": content_hash, "kind": kind, "spec": spec}
        if kind == "changed":
            if field is None or fnmatch.fnmatchcase(path_, field):
                what = f"the {path_} change of {spec}"
                out.append(Change(**base, field=path_, old=_value(old, what), new=_value(new, what), source=source))
        elif field is None:
            out.append(Change(**base))
        else:  # a whole model in or out: the fields asked for, as they were then
            flat = _value(new if kind.endswith("introduced") else old, f"the {kind} event of {spec}") or {}
            for name in sorted(n for n in flat if fnmatch.fnmatchcase(n, field)):
                value = flat[name]
                out.append(
                    Change(**base, field=name, **({"old": value} if kind.endswith("removed") else {"new": value}))
                )
    return out


def _value(text: str | None, what: str) -> Any:
    return None if text is None else contract.event_value(text, what)


def parse_time(value: str | date | datetime | float) -> float:
    """A `--since` or `at=` value as unix time: a datetime (naive means UTC), a date, ISO text, or a number."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidQuery(
                f"{clip(text)} is not a date or time (use ISO 8601: 2026-07-01 or 2026-07-01T12:00Z)"
            ) from None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def diff_snapshots(old: Snapshot, new: Snapshot, profile: str | None = None) -> CatalogDiff:
    """Every model of two snapshot files (read as `profile`) compared: equal models are skipped before they are
    flattened."""
    old_specs = [s for s in old.specs if s not in old.hidden]  # a profile's exclusions are not there
    new_specs = [s for s in new.specs if s not in new.hidden]
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
        profile=profile,
    )


# -- what a catalog asks of its history ----------------------------------------------------------------------


def history_spec(catalog: Catalog, spec: str) -> str:
    """The spec `spec` names in the catalog, or `spec` itself when it is a spec the history alone knows (a
    removed model); `ModelNotFound` when neither knows it."""
    try:
        return catalog.resolve_name(spec).spec
    except (ModelNotFound, UnknownProvider):  # a removed model, perhaps with its provider
        if ":" in spec and timeline(catalog.history_path, spec):
            return spec
        raise


def model_then(catalog: Catalog, spec: str, at: str | date | datetime | float) -> Model:
    """The model `spec` names as the history had it at `at` (`cost(..., at=)`); a future time is refused."""
    when = parse_time(at)
    if when > time.time():
        raise InvalidQuery(f"at={at!r} is in the future: prices are known up to now ({contract.iso(time.time())})")
    return model_at(catalog.history_path, history_spec(catalog, spec), when)


def history(catalog: Catalog, spec: str, field: str | None = None) -> list[Change]:
    """The timeline of a model, oldest first: introduced, each field change (old, new, source), removed.

    `spec`: any name `get` accepts, or the exact spec of a model no longer in the catalog. `field`: a path or
    glob (`cost.input`, `cost.*`) to follow only those fields. `HistoryError` when there is no history;
    `ModelNotFound` when neither the catalog nor the history knows the model."""
    return timeline(catalog.history_path, history_spec(catalog, spec), field)


def lifecycle(catalog: Catalog, spec: str) -> LifecycleDates:
    """A model's lifecycle: the provider's deprecation and retirement dates from the catalog, and from the
    history when the catalog first had it (`introduced`), last changed it, and dropped it (`removed`).
    `spec` as for `history`."""
    spec = history_spec(catalog, spec)
    return lifecycle_in(catalog.history_path, spec, catalog.snapshot.model(spec))


def changes(
    catalog: Catalog, since: str | date | datetime | float, *, provider: str | None = None, field: str | None = None
) -> list[Change]:
    """What changed across the catalog since a time (ISO text, date, datetime or unix time), oldest first;
    `provider` (one the catalog no longer has, too, when the history knows it) and `field` (a path or glob)
    narrow it."""
    when = parse_time(since)
    if provider is not None:
        pid = provider_id(provider, catalog.snapshot.provider_alias_map)
        if pid is None and not changes_since(catalog.history_path, float("-inf"), provider):
            catalog.provider(provider)  # neither the catalog nor its history knows it: UnknownProvider
        provider = pid or provider
    return changes_since(catalog.history_path, when, provider, field)


def diff(
    catalog: Catalog, old: str | os.PathLike[str] | int, new: str | os.PathLike[str] | int | None = None
) -> CatalogDiff:
    """Models added, removed and changed (field by field) from `old` to `new`: snapshot files, or epochs
    the daemon still retains (`HistoryError` naming the ones it does when not). `new` defaults to the
    catalog being served. Both are read as this catalog's profile, or both as the base catalog when one of
    them does not have it (`CatalogDiff.profile` says which)."""
    served = catalog.snapshot
    sides = [_path_of(old, served), None if new is None else _path_of(new, served)]
    try:
        before, after = (served if p is None else Snapshot(p, profile=catalog.profile) for p in sides)
        return diff_snapshots(before, after, catalog.profile)
    except UnknownProfile:  # an older file, from before the profile existed
        before, after = (Snapshot(served.path if p is None else p) for p in sides)
        return diff_snapshots(before, after, None)


def _path_of(which: str | os.PathLike[str] | int, served: Snapshot) -> Path | None:
    """A snapshot file, or the file of a retained epoch (None: the one being served)."""
    if not isinstance(which, int):
        from pathlib import Path

        return Path(which)
    if which == served.epoch:
        return None
    kept = contract.retained_epochs(served.path.parent)
    path = kept.get(which)
    if path is None:
        have = ", ".join(map(str, kept)) or "none"
        where = served.path.parent / contract.SNAPSHOTS_DIR
        raise HistoryError(f"epoch {which} is not retained in {where} (retained epochs: {have})")
    return path
