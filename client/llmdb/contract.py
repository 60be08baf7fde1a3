"""The contract between llmdbd (which publishes) and llmdb (which reads): nothing else crosses between them.

It holds the snapshot file format, reading a file's header, the bitsets a snapshot stores per model, and the
layout of a daemon's state directory (default paths, status file). llmdbd imports this module and public
`llmdb` names only; applications use `llmdb` itself.

File layout (all integers little-endian; docs/snapshot-format.md):

    0    header, HEADER_SIZE bytes: magic, format version, schema version, epoch, build time, content hash,
         flags, section count, header checksum
    128  section table: `section count` x (id u32, crc32 u32, offset u64, length u64)
    ...  sections: INDEX, RECORDS, PROVENANCE, REPORT (msgpack); LOOKUP (fixed-width arrays, format 1.4)

The flags word is the only part of a file ever written after publishing (the superseded bit), so it is
excluded from every checksum.
"""

import os
import re
import struct
import zlib
from array import array
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import accumulate
from pathlib import Path
from typing import Any, Literal

import msgspec
from msgspec import Struct

from llmdb._features import features_of
from llmdb.errors import HistoryError, SnapshotError
from llmdb.schema import BuildIssue, Model, Overridden, Provenance, Provider, SourceInfo

# -- the state directory -------------------------------------------------------------------------------------

STATE_DIR = Path("/var/lib/llmdb")
"""The daemon's default state directory."""
CATALOG_FILE = "catalog.llmdb"
"""The current snapshot, inside a state directory."""
STATUS_FILE = "status.json"
"""What the daemon serves and refused, inside a state directory (JSON, times as `iso` writes them)."""
LOCK_FILE = "llmdbd.lock"
"""Held (flock) by the one process that writes a state directory; it holds that process's pid."""
SNAPSHOTS_DIR = "snapshots"
"""Retained earlier snapshots, `catalog.<epoch:010d>.llmdb`, inside a state directory."""
_RETAINED = re.compile(r"^catalog\.(\d+)\.llmdb$")
SNAPSHOT_ENV = "LLMDB_SNAPSHOT"
"""Environment variable naming the snapshot file a client reads."""
PROFILE_ENV = "LLMDB_PROFILE"
"""The profile a process reads the catalog with (`Catalog(profile=...)` overrides it)."""
STATE_DIR_ENV = "LLMDB_STATE_DIR"
"""Environment variable naming the daemon's state directory a client looks in (default `STATE_DIR`)."""


def retained_path(state_dir: str | Path, epoch: int) -> Path:
    """Where a state directory keeps the snapshot it published as `epoch`."""
    return Path(state_dir) / SNAPSHOTS_DIR / f"catalog.{epoch:010d}.llmdb"


def retained_epochs(state_dir: str | Path) -> dict[int, Path]:
    """Epoch → retained snapshot file of a state directory, oldest first (empty when it has none)."""
    try:
        found = [
            (int(m.group(1)), p) for p in (Path(state_dir) / SNAPSHOTS_DIR).iterdir() if (m := _RETAINED.match(p.name))
        ]
    except OSError:
        return {}
    return dict(sorted(found))


def iso(timestamp: float | None) -> str | None:
    """`1767225600.0` → `2026-01-01T00:00:00Z`: how the status file and `llmdb info` write times."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unix(text: str) -> float:
    """`iso`'s inverse: `2026-01-01T00:00:00Z` → `1767225600.0` (`ValueError` when it is not such a time)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class UpstreamStatus(Struct, kw_only=True, omit_defaults=True):
    """One upstream catalog as the daemon last got it."""

    source: Literal["none", "cache", "http"]
    """Where its data comes from: nothing fetched (its `file`, or the packaged catalog), the cache, a fetch."""
    url: str | None = None
    etag: str | None = None
    last_success: str | None = None
    last_result: str | None = None
    last_failure: str | None = None
    error: str | None = None


class PublishStatus(Struct, kw_only=True, omit_defaults=True):
    """What one `[publish]` target holds of this daemon's snapshots."""

    url: str
    epoch: int | None = None
    content_hash: str | None = None
    sha256: str | None = None
    uploaded_at: str | None = None
    ms: float | None = None
    error: str | None = None
    failures: int = 0
    retry_in: float | None = None


class LeaderSeen(Struct, kw_only=True, omit_defaults=True):
    """The leader's manifest as a follower last read it."""

    content_hash: str
    epoch: int
    published_at: str
    host: str


class Following(Struct, kw_only=True, omit_defaults=True):
    """The leader's file a follower verified and builds from."""

    content_hash: str
    epoch: int
    sha256: str
    applied_at: str | None = None


class FollowStatus(Struct, kw_only=True, omit_defaults=True):
    """A follower's view of its leader: the hash last seen, the one followed, whether it is served."""

    url: str
    leader: LeaderSeen | None = None
    following: Following | None = None
    serves_leader: bool | None = None
    differs_because: str | None = None
    lag_s: float | None = None
    checked_at: str | None = None
    stale_s: float | None = None
    error: str | None = None
    failures: int = 0


class RejectedFile(Struct, kw_only=True):
    """A patch file whose current version is refused, and what is used instead."""

    file: str
    errors: list[str]
    keeping: str
    """`last accepted version (sha256:…)`, or `nothing: never accepted`."""


class HistoryStatus(Struct, kw_only=True, omit_defaults=True):
    """The change history: the epoch last recorded, or the error that stopped the last record."""

    path: str
    epoch: int | None = None
    error: str | None = None


class Status(Struct, kw_only=True):
    """`state_dir/status.json`, written by the daemon after every build and fleet event and when it stops; read
    by `llmdbd status`, `llmdb info` and `llmdbd fleet-status`. Times are `iso` strings."""

    state: Literal["running", "stopped", "gone"]
    """`gone`: the file says running but its process is not (set by `live`, never written)."""
    pid: int
    host: str | None = None
    """None in a file an older daemon wrote: taken as this host's."""
    started_at: str | None = None
    updated_at: str | None = None
    stopped_at: str | None = None
    epoch: int | None = None
    """What is served (None before the first publish)."""
    content_hash: str | None = None
    built_at: str | None = None
    trigger: str = ""
    """What started the last build (`start`, `patches_changed`, `sighup`, ...)."""
    sources: list[SourceInfo] = []
    upstream: dict[str, UpstreamStatus] = {}
    rejected_files: list[RejectedFile] = []
    history: HistoryStatus | None = None
    publish: list[PublishStatus] | None = None
    follow: FollowStatus | None = None
    build_issue_count: int = 0
    build_issues: list[BuildIssue] = []
    down: str | None = None
    """Why the daemon is not running (set by `live`, never written)."""


def liveness(status: Status, *, check_pid: bool = True) -> str | None:
    """None when the daemon that wrote `status` is running; else why not (stopped, or its process is gone).
    `check_pid=False` for a status file written on another host, whose process cannot be looked up here."""
    if status.state == "stopped":
        return f"stopped at {status.stopped_at}"
    if check_pid and not _alive(status.pid):
        return f"process {status.pid} is gone (killed, or the machine restarted)"
    return None


def live(status: Status, *, check_pid: bool = True) -> Status:
    """`status` as it stands now: `down` says why the daemon is not running, and `state` is `gone` when the file
    says running but its process is not (killed, or the machine restarted)."""
    down = liveness(status, check_pid=check_pid)
    if down is None:
        return status
    return msgspec.structs.replace(status, state="gone" if status.state == "running" else status.state, down=down)


def status_lines(status: Status) -> list[str]:
    """`status` (as `live` gives it) for a person: `llmdbd status` prints these, `llmdb info` the fleet's."""
    state = f"not running ({status.down})" if status.down else f"running, pid {status.pid}, since {status.started_at}"
    lines = [
        f"llmdbd: {state}",
        f"serving: epoch {status.epoch}, content hash {status.content_hash}, built {status.built_at}",
        f"last build: {status.updated_at} ({status.trigger}), {status.build_issue_count} issue(s)",
    ]
    for name, up in status.upstream.items():
        lines.append(f"upstream {name}: " + ", ".join(_pairs(up)))
    return lines + fleet_lines(status) + issue_lines(status)


def fleet_lines(status: Status) -> list[str]:
    """A leader's publish targets and a follower's leader (hash seen, whether served, staleness, lag)."""
    lines = [f"publish {t.url}: " + ", ".join(_pairs(t, skip={"url"})) for t in status.publish or ()]
    follow = status.follow
    if follow is not None:
        serves = "serves the leader's catalog" if follow.serves_leader else follow.differs_because or "not yet"
        lines.append(
            f"follow {follow.url}: leader {follow.leader.content_hash if follow.leader else '-'}; {serves};"
            f" checked {follow.checked_at or 'never'} ({follow.stale_s} s before this status), lag {follow.lag_s} s"
            + (f"; error: {follow.error}" if follow.error else "")
        )
    return lines


def issue_lines(status: Status) -> list[str]:
    """Each rejected patch file with its errors, then the build's other issues (a rejected file's are not
    repeated)."""
    rejected = {r.file for r in status.rejected_files}
    lines = [f"rejected: {r.file} (keeping {r.keeping}): {'; '.join(r.errors)}" for r in status.rejected_files]
    for issue in status.build_issues:
        if issue.file is None or issue.file not in rejected:
            lines.append(str(issue))
    return lines


def _pairs(value: Struct, skip: frozenset[str] | set[str] = frozenset()) -> list[str]:
    return [f"{k} {v}" for k, v in msgspec.to_builtins(value).items() if k not in skip]


def _alive(pid: int) -> bool:
    """A process `pid` exists and is an llmdbd (a recycled pid of another program does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user (the systemd service's dynamic user)
    try:
        return b"llmdbd" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc to tell: trust the pid


def read_status(state_dir: str | Path) -> Status | None:
    """The daemon's status file in `state_dir`, or None when there is none or it is unreadable."""
    try:
        return decode_status((Path(state_dir) / STATUS_FILE).read_bytes())
    except (OSError, ValueError):
        return None


def decode_status(data: bytes) -> Status:
    """A status file's bytes as a `Status`; `ValueError` saying what is wrong with them."""
    try:
        return msgspec.json.decode(data, type=Status)
    except msgspec.DecodeError as exc:  # ValidationError included
        raise ValueError(f"not a status file: {exc}") from None


# -- the snapshot file ---------------------------------------------------------------------------------------

MAGIC = b"LLMDBSNP"
FORMAT_MAJOR = 1
FORMAT_MINOR = 5
"""1.1 added `Index.excluded`, 1.2 `Index.names`, 1.3 `Index.record_crcs`, 1.4 the LOOKUP section, 1.5
`Index.profiles`; an older reader ignores them, a newer one reads older files as having none."""
HEADER = struct.Struct("<8sHHIQd32sIII52x")
"""magic, major, minor, schema version, epoch, built_at, sha256, flags, section count, header crc32."""
HEADER_SIZE = HEADER.size
FLAGS_OFFSET = 8 + 2 + 2 + 4 + 8 + 8 + 32
"""Byte offset of the flags word (mutable: not covered by checksums)."""
SUPERSEDED = 1
"""Flags bit set by the publisher on a file once a newer one has replaced it."""
SECTION = struct.Struct("<IIQQ")
"""id, crc32, offset, length."""

INDEX, RECORDS, PROVENANCE, REPORT, LOOKUP = 1, 2, 3, 4, 5
REQUIRED_SECTIONS = {INDEX: "index", RECORDS: "records", PROVENANCE: "provenance", REPORT: "report"}
SECTION_NAMES = {**REQUIRED_SECTIONS, LOOKUP: "lookup"}

LOOKUP_HEAD = struct.Struct("<II")
"""The LOOKUP section (format 1.4) starts with: model count n, hash slot count (a power of two above n; the
writer uses at least 2n)."""


def lookup_layout(n: int, slots: int) -> tuple[int, int, int, int, int]:
    """Where the LOOKUP section's parts start: record offsets ((n + 1) x u64, as `Index.offsets`), record
    crc32s (n x u32, as `Index.record_crcs`), spec offsets into the spec text ((n + 1) x u32), hash slots
    (`slots` x u32: ordinal + 1, 0 when empty), then the specs' UTF-8 text, concatenated in ordinal order.

    A reader finds a spec's ordinal by probing from `spec_hash(spec) & (slots - 1)`, reading everything in
    place: opening a file does not decode its specs."""
    offsets = LOOKUP_HEAD.size
    crcs = offsets + 8 * (n + 1)
    spec_offsets = crcs + 4 * n
    hashes = spec_offsets + 4 * (n + 1)
    text = hashes + 4 * slots
    return offsets, crcs, spec_offsets, hashes, text


def spec_hash(spec: bytes) -> int:
    """The hash the LOOKUP section's slots use (stable across processes, unlike `hash`)."""
    return zlib.crc32(spec)


def lookup_section(specs: Sequence[str], offsets: bytes, record_crcs: bytes, keys: bytes | None = None) -> bytes:
    """The LOOKUP section for sorted `specs` and their records' offsets and checksums; `keys`: what
    `lookup_keys(specs)` gave for these specs before (a publisher reuses it while the specs stay the same)."""
    keys = lookup_keys(specs) if keys is None else keys
    head = LOOKUP_HEAD.size
    return b"".join([keys[:head], offsets, record_crcs, memoryview(keys)[head:]])


def lookup_keys(specs: Sequence[str]) -> bytes:
    """The parts of the LOOKUP section that depend on the specs alone: the head, then the spec offsets, hash
    slots and spec text (everything but the record offsets and checksums that follow the head)."""
    n = len(specs)
    slots = 1
    while slots < 2 * n:
        slots *= 2
    mask = slots - 1
    encoded = [s.encode() for s in specs]
    table = array("I", bytes(4 * slots))
    for ordinal, spec in enumerate(encoded):
        slot = spec_hash(spec) & mask
        while table[slot]:
            slot = (slot + 1) & mask
        table[slot] = ordinal + 1
    return b"".join([LOOKUP_HEAD.pack(n, slots), spec_starts(encoded).tobytes(), table.tobytes(), *encoded])


def spec_starts(encoded: Sequence[bytes]) -> "array[int]":
    """Where each spec starts in the LOOKUP section's spec text (n + 1 offsets: the last is the text's end)."""
    starts = array("I", [0])
    starts.extend(accumulate(map(len, encoded)))
    return starts


class Header(Struct, frozen=True, kw_only=True):
    """The fixed-size start of a snapshot file."""

    major: int
    minor: int
    schema: int
    epoch: int
    built_at: float
    content_hash: str
    flags: int
    sections: int
    crc: int


def parse_header(data: bytes | memoryview, where: str) -> Header:
    """The header at the start of `data`; `SnapshotError` naming `where` if it is not a snapshot header."""
    if len(data) < HEADER_SIZE:
        raise SnapshotError(f"{where}: truncated: {len(data)} bytes, shorter than the header")
    magic, major, minor, schema, epoch, built_at, digest, flags, count, crc = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise SnapshotError(f"{where}: not an llmdb snapshot (bad magic {bytes(magic)!r})")
    return Header(
        major=major,
        minor=minor,
        schema=schema,
        epoch=epoch,
        built_at=built_at,
        content_hash=bytes(digest).hex(),
        flags=flags,
        sections=count,
        crc=crc,
    )


def read_header(path: str | Path) -> Header:
    """The header of the snapshot file at `path`; `SnapshotError` if it is missing or not a snapshot."""
    try:
        with open(path, "rb") as f:
            data = f.read(HEADER_SIZE)
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot open snapshot: {exc.strerror or exc}") from None
    return parse_header(data, str(path))


def header_crc(header: bytes, table: bytes) -> int:
    """Checksum of the header (flags and the checksum field itself excluded) and the section table."""
    crc = zlib.crc32(header[:FLAGS_OFFSET])
    crc = zlib.crc32(header[FLAGS_OFFSET + 4 : FLAGS_OFFSET + 8], crc)
    return zlib.crc32(table, crc)


class ProfileIndex(Struct, frozen=True, kw_only=True):
    """One profile (`[profiles.<name>]`) compiled against the file's catalog: what a reader with that profile
    sees instead of the base. Same specs and ordinals as the base; only differences are stored."""

    definition: dict[str, Any]
    """The profile as configured (`allow`, `deny`, `exclude`, `overrides`): a follower compiles it again."""
    bitsets: dict[str, bytes]
    """Every bitset, as for `Index.bitsets`, with this profile's allowed set, exclusions and overrides."""
    denied: dict[str, str]
    """Spec → the rule denying it under this profile (the base's rules and the profile's)."""
    excluded: dict[str, str]
    """Specs the profile removes (in the file for other profiles; not found under this one)."""
    records: dict[str, bytes]
    """Spec → the model's record with the profile's overrides (msgpack, as in RECORDS)."""
    columns: dict[str, dict[str, Any]]
    """Column → spec → the overridden model's value, where it differs from the base's."""


class Index(Struct, frozen=True, kw_only=True, array_like=True):
    """Everything a lookup or a filter needs without decoding model records, decoded once per mapping."""

    specs: list[str]
    """All model specs, sorted; a model's ordinal is its position here."""
    offsets: bytes
    """`array('Q')` of len(specs) + 1 record offsets within the RECORDS section."""
    model_aliases: dict[str, str]
    providers: list[Provider]
    provider_aliases: dict[str, str]
    """Every canonical id and alias → canonical id."""
    provider_ranges: dict[str, tuple[int, int]]
    """Provider id → [first, end) ordinals: specs sort by provider first, so a provider's models are contiguous."""
    denied: dict[str, str]
    """Spec → the allow/deny rule that denies it (the model is in the file)."""
    bitsets: dict[str, bytes]
    """Feature, `status:<s>`, `mode:<m>`, `input:<m>`, `output:<m>`, `allowed`, `deprecated`, `has_cost` →
    little-endian bits."""
    columns: dict[str, list[Any]]
    """`context`, `output`, `input_cost`, `output_cost`, `release_date`, `family`, `base_id`: one value per
    ordinal."""
    excluded: dict[str, str] = {}
    """Spec → the exclude that removed it, naming its file (the model is not in the file). Format 1.1."""
    names: dict[str, str] = {}
    """Another catalog's name for a model (LiteLLM's keys, `Model.names`) → spec. Format 1.2."""
    record_crcs: bytes = b""
    """`array('I')` of one crc32 per record: a reader verifies each record when it first decodes it, so opening a
    file does not read (nor checksum) every record. Format 1.3; without it the RECORDS section is verified whole
    at open."""
    profiles: dict[str, ProfileIndex] = {}
    """Profile name → its view of the catalog (`Catalog(profile=...)`, `LLMDB_PROFILE`). Format 1.5."""


COLUMNS = ("context", "output", "input_cost", "output_cost", "release_date", "family", "base_id")
"""`Index.columns`' keys: what numeric limits, orderings and `select(like=...)` read without decoding a record."""


def column_values(model: Model) -> tuple[Any, ...]:
    """A model's value in each of `COLUMNS`."""
    cost = model.cost
    return (
        model.limits.context,
        model.limits.output,
        cost.input if cost is not None else None,
        cost.output if cost is not None else None,
        model.release_date,
        model.family,
        model.base_id,
    )


def bitset_names(model: Model, allowed: bool) -> set[str]:
    """The names of the bitsets that have `model`'s bit set."""
    names = {k for k, v in features_of(model).items() if v}
    names.add(f"status:{model.status}")
    if model.mode is not None:
        names.add(f"mode:{model.mode}")
    names.update(f"input:{m}" for m in model.modalities.input)
    names.update(f"output:{m}" for m in model.modalities.output)
    if allowed:
        names.add("allowed")
    if model.deprecated:
        names.add("deprecated")
    if model.cost is not None:
        names.add("has_cost")
    return names


StoredSource = tuple[int, bool, tuple[tuple[int, Any], ...]]
"""Where one field's value came from, as stored: `(source, deleted, ((source, value replaced), ...))`,
sources being positions in `ProvenanceTable.sources`."""


class ProvenanceTable(Struct, frozen=True, kw_only=True, array_like=True):
    """Every build input (and stage) once, then per model and provider: field path → `StoredSource`."""

    sources: list[SourceInfo]
    models: list[dict[str, StoredSource]]
    """Per ordinal."""
    providers: dict[str, dict[str, StoredSource]]


def expand(sources: Sequence[SourceInfo], fields: dict[str, StoredSource]) -> dict[str, Provenance]:
    """Stored field sources → `Provenance` values (what `explain` returns)."""
    out = {}
    for path, (index, deleted, replaced) in fields.items():
        if index < 0 or any(i < 0 for i, _ in replaced):  # Python would count negative ones from the end
            raise IndexError(f"{path}: a negative source index")
        s = sources[index]
        out[path] = Provenance(
            source=s.name,
            file=s.file,
            version=s.version,
            deleted=deleted,
            overridden=tuple(
                Overridden(source=sources[i].name, file=sources[i].file, version=sources[i].version, value=value)
                for i, value in replaced
            ),
        )
    return out


# -- the history database -------------------------------------------------------------------------

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
