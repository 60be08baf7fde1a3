"""Recording what each published catalog changed into the state directory's history database.

Each catalog is diffed against the one recorded before it: models and providers introduced and removed, and per
model the fields whose value changed (old, new, and the source of the new value). One SQLite transaction per
catalog, so a kill -9 leaves all of a catalog's events or none (contract.HISTORY_SCHEMA)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from llmdb import HistoryError, contract
from llmdb.contract import HistoryStatus
from llmdb.schema import Model, Provider
from llmdbd.engine import BuiltCatalog
from llmdbd.output.files import atomic_write, remove_stale_temps

_JSON = msgspec.json.Encoder(order="deterministic")
Flat = dict[str, Any]
Event = tuple[str, str, str | None, str | None, str | None, str | None]
"""kind, spec, field, old (JSON), new (JSON), source."""


def connect(path: Path) -> sqlite3.Connection:
    """The history database at `path`, created if missing (WAL: readers never wait for the writer). The
    daemon's rebuilds, one at a time, run in worker threads: the connection is not tied to one."""
    conn = sqlite3.connect(path, timeout=1.0, isolation_level=None, check_same_thread=False)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > contract.HISTORY_VERSION:
            raise sqlite3.DatabaseError(f"{path}: history version {version} is newer than this llmdbd reads")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")  # each commit is on disk, like the snapshot it records
        conn.executescript(contract.HISTORY_SCHEMA)
        conn.execute(f"PRAGMA user_version={contract.HISTORY_VERSION}")
    except BaseException:
        conn.close()
        raise
    return conn


def last_version(conn: sqlite3.Connection) -> tuple[int, int | None, str] | None:
    """(id, epoch, content hash) of the newest recorded catalog."""
    row = conn.execute("SELECT id, epoch, content_hash FROM versions ORDER BY id DESC LIMIT 1").fetchone()
    return None if row is None else (row[0], row[1], row[2])


def state(conn: sqlite3.Connection, upto: int | None = None) -> tuple[dict[str, Flat], dict[str, Flat]]:
    """Models and providers (flattened) as of version `upto` (default: the newest), replayed from the events."""
    models: dict[str, Flat] = {}
    providers: dict[str, Flat] = {}
    rows = conn.execute(
        "SELECT kind, spec, field, new FROM events WHERE version <= ? ORDER BY version, rowid",
        (upto if upto is not None else 2**62,),
    )
    contract.replay(rows, models, providers)
    return models, providers


def diff(
    before: Mapping[str, Model | Flat],
    after: Mapping[str, Model],
    before_providers: Mapping[str, Provider | Flat],
    after_providers: Mapping[str, Provider],
    source_of: Any = None,
) -> Iterator[Event]:
    """The events from one catalog to the next. Unchanged models are skipped by identity or equality before
    anything is flattened, so a one-model patch flattens one model. `source_of(spec, field)` names the source
    of a new value (None: unknown)."""
    for pid, provider in after_providers.items():
        if pid not in before_providers:
            yield ("provider_introduced", pid, None, None, _JSON.encode(contract.flatten(provider)).decode(), None)
    for pid in before_providers:
        if pid not in after_providers:
            yield ("provider_removed", pid, None, None, None, None)
    for spec, model in after.items():
        old = before.get(spec)
        if old is None:
            yield ("introduced", spec, None, None, _JSON.encode(contract.flatten(model)).decode(), None)
        elif old is not model and not (isinstance(old, Model) and old == model):
            old_flat = old if isinstance(old, dict) else contract.flatten(old)
            for field, was, now in contract.field_changes(old_flat, contract.flatten(model)):
                source = source_of(spec, field) if source_of is not None else None
                yield ("changed", spec, field, _json(was), _json(now), source)
    for spec, old in before.items():
        if spec not in after:
            flat = old if isinstance(old, dict) else contract.flatten(old)
            yield ("removed", spec, None, _JSON.encode(flat).decode(), None, None)


def _json(value: Any) -> str | None:
    return None if value is None else _JSON.encode(value).decode()


def provenance_source(catalog: BuiltCatalog) -> Any:
    """`source_of` for `diff`: the source of a field's value in `catalog`, from its provenance (the nearest
    enclosing path that has one)."""

    def source_of(spec: str, field: str) -> str | None:
        table = catalog.provenance(spec)
        path = field
        while path:
            found = table.get(path)
            if found is not None:
                return found.source
            path = path.rpartition(".")[0]
        return None

    return source_of


def continues(seed: Path, catalog: BuiltCatalog) -> bool:
    """Whether `catalog` carries on from the history `seed`: it is the newest catalog recorded there (same
    content hash), or that catalog's snapshot is the only upstream among its build's inputs (patches and
    overrides on top are changes of the daemon's own, recorded at its epochs). A catalog of other upstreams
    shares none of its past: diffed against it, it would show changes its catalog never had. `HistoryError` if
    `seed` cannot be read."""
    try:
        conn = sqlite3.connect(f"{seed.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT content_hash FROM versions ORDER BY id DESC LIMIT 1").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise HistoryError(f"{seed}: cannot read the history to start from: {exc}") from None
    if row is None:
        return False
    upstreams = [source.version for source in catalog.report.sources if source.kind == "upstream"]  # its inputs
    return bool(catalog.content_hash == row[0] or upstreams == ["sha256:" + row[0]])


class History:
    """The state directory's history database and the catalog last recorded in it.

    The daemon records every published catalog. The catalog it recorded last stays in memory as the next diff's
    base; after a restart the base is replayed from the database, so whatever was published while no history was
    written (a kill between publishing and recording) shows up as changes in the next recorded catalog.

    The connection stays open between records: while it is, the write-ahead log's `-wal` and `-shm` files exist,
    which a reader that may not write to the state directory (another user) needs to open the database."""

    def __init__(self, path: Path, *, retention_days: int = 0, seed: Path | None = None) -> None:
        """`path`: the database (a state directory's `history.sqlite3`); `seed`: a history to start from when
        there is none, used only if the first catalog recorded carries on from it (`continues`): the packaged
        one gives a daemon serving the packaged catalog the past it ships with, and no other daemon a past that
        was not its catalog's."""
        self.path = path
        self.retention_days = retention_days
        self.seed = seed
        self.status = HistoryStatus(path=str(self.path))
        """For the daemon's status: the epoch last recorded, or the error that stopped the last record."""
        self._base: tuple[Mapping[str, Model | Flat], Mapping[str, Provider | Flat]] | None = None
        self._conn: sqlite3.Connection | None = None

    def close(self) -> None:
        """Close the connection (the next record opens it again)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self, catalog: BuiltCatalog) -> sqlite3.Connection:
        """The open database; a new one starts as a copy of `seed` when `catalog`, the first it will record,
        carries on from it, else empty (its first catalog then introduces every model)."""
        if self._conn is None:
            remove_stale_temps(self.path.parent, self.path.name)  # a seed copy cut short by a kill
            seed = self.seed
            if seed is not None and not self.path.exists() and seed.is_file() and continues(seed, catalog):
                atomic_write(self.path, seed.read_bytes())
            self._conn = connect(self.path)
        return self._conn

    def record(
        self, catalog: BuiltCatalog, *, epoch: int | None, at: float | None = None, origin: str = "publish"
    ) -> int:
        """Record `catalog` as taking effect at `at` (default now) under `epoch`; the number of events written.

        A catalog whose epoch is already the newest recorded writes nothing (a restart serving what was
        recorded); one with the newest recorded content under a new epoch writes a version without events.
        `sqlite3.Error`, `OSError` or `HistoryError` (an event that cannot be read back) when the database
        cannot be written; nothing is half-written then, the connection is closed, and the next call diffs from
        the last catalog recorded."""
        try:
            return self._record(self._connection(catalog), catalog, epoch, time.time() if at is None else at, origin)
        except BaseException:
            self.close()
            raise

    def _record(
        self, conn: sqlite3.Connection, catalog: BuiltCatalog, epoch: int | None, when: float, origin: str
    ) -> int:
        last = last_version(conn)
        if last is not None and epoch is not None and last[1] == epoch:
            self._base = (catalog.models, catalog.providers)
            return 0
        base = self._base
        if last is None:
            base = ({}, {})
        elif last[2] == catalog.content_hash:
            base = (catalog.models, catalog.providers)  # the same content: no events, only the new epoch
        elif base is None:
            base = state(conn)
        events = list(diff(base[0], catalog.models, base[1], catalog.providers, provenance_source(catalog)))
        conn.execute("BEGIN IMMEDIATE")
        try:
            cursor = conn.execute(
                "INSERT INTO versions (epoch, content_hash, at, origin) VALUES (?, ?, ?, ?)",
                (epoch, catalog.content_hash, when, origin),
            )
            conn.executemany(
                "INSERT INTO events (version, kind, spec, field, old, new, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(cursor.lastrowid, *event) for event in events],
            )
            if self.retention_days > 0:
                _compact(conn, when - self.retention_days * 86400)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._base = (catalog.models, catalog.providers)
        return len(events)

    def record_or_report(self, catalog: BuiltCatalog, *, epoch: int, at: float) -> dict[str, Any]:
        """`record` for the daemon: a history that cannot be written is reported (in `status` and the returned
        event fields), never raised, so publishing goes on."""
        try:
            events = self.record(catalog, epoch=epoch, at=at)
        except (sqlite3.Error, OSError, HistoryError) as exc:
            error = f"{self.path}: {exc}"
            self.status = HistoryStatus(path=str(self.path), error=error)
            return {"error": error}
        self.status = HistoryStatus(path=str(self.path), epoch=epoch)
        return {"events": events}


def _compact(conn: sqlite3.Connection, cutoff: float) -> None:
    """Forget versions older than `cutoff`, keeping what they add up to: the newest of them becomes a baseline
    version that introduces every model and provider it had."""
    row = conn.execute("SELECT max(id) FROM versions WHERE at < ?", (cutoff,)).fetchone()
    if row[0] is None:
        return
    keep = row[0]
    first = conn.execute("SELECT min(id) FROM versions").fetchone()[0]
    if first == keep and conn.execute("SELECT origin FROM versions WHERE id = ?", (keep,)).fetchone()[0] == "baseline":
        return
    models, providers = state(conn, keep)
    conn.execute("DELETE FROM events WHERE version <= ?", (keep,))
    conn.execute("DELETE FROM versions WHERE id < ?", (keep,))
    conn.execute("UPDATE versions SET origin = 'baseline' WHERE id = ?", (keep,))
    conn.executemany(
        "INSERT INTO events (version, kind, spec, new) VALUES (?, ?, ?, ?)",
        [(keep, "provider_introduced", pid, _JSON.encode(flat).decode()) for pid, flat in providers.items()]
        + [(keep, "introduced", spec, _JSON.encode(flat).decode()) for spec, flat in models.items()],
    )


class Dated(NamedTuple):
    """One upstream file of `llmdbd history import`: which upstream it is, where, and the day it describes."""

    upstream: str
    path: Path
    at: float
    origin: str | None = None


def replay(history: History, files: Sequence[Dated], build_at: Callable[[dict[str, Dated]], BuiltCatalog]) -> int:
    """Record one catalog per date of `files`, oldest first, each built (`build_at`) from the newest file of
    every upstream as of that date; the number of catalogs recorded. A date before the newest catalog already
    recorded is refused (`ValueError`): a history only grows forward."""
    conn = connect(history.path)
    try:
        newest = conn.execute("SELECT max(at) FROM versions").fetchone()[0]
    finally:
        conn.close()
    ordered = sorted(files, key=lambda f: f.at)
    if newest is not None and ordered and ordered[0].at <= newest:
        raise ValueError(
            f"{ordered[0].path}: dated {contract.iso(ordered[0].at)}, not after the newest catalog in "
            f"{history.path} ({contract.iso(newest)}): import into a new history, oldest first"
        )
    latest: dict[str, Dated] = {}
    recorded = 0
    for i, entry in enumerate(ordered):
        latest[entry.upstream] = entry
        if i + 1 < len(ordered) and ordered[i + 1].at == entry.at:
            continue  # every file of one date goes into one catalog
        catalog = build_at(dict(latest))
        names = ", ".join(f"{f.upstream}={f.origin or f.path.name}" for f in latest.values())
        history.record(catalog, epoch=None, at=entry.at, origin=f"import {names}")
        recorded += 1
    return recorded


def packaged_copy(path: Path) -> None:
    """Rewrite a history to be shipped read-only (in the wheel): one file, no write-ahead log."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("VACUUM")
    finally:
        conn.close()
