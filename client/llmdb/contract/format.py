"""The snapshot file's format: header, sections, the lookup section, the index and the provenance table.

File layout (all integers little-endian; docs/snapshot-format.md):

    0    header, HEADER_SIZE bytes: magic, format version, schema version, epoch, build time, content hash,
         flags, section count, header checksum
    128  section table: `section count` x (id u32, crc32 u32, offset u64, length u64)
    ...  sections: INDEX, RECORDS, PROVENANCE, REPORT (msgpack); LOOKUP (fixed-width arrays, format 1.4)

The flags word is the only part of a file ever written after publishing (the superseded bit), so it is
excluded from every checksum.
"""

import os
import struct
import zlib
from array import array
from collections.abc import Callable, Sequence
from itertools import accumulate
from typing import Any

from msgspec import Struct

from llmdb.errors import SnapshotError
from llmdb.schema import Overridden, Provenance, Provider, SourceInfo

MAGIC = b"LLMDBSNP"
FORMAT_MAJOR = 1
FORMAT_MINOR = 6
"""1.1 added `Index.excluded`, 1.2 `Index.names`, 1.3 `Index.record_crcs`, 1.4 the LOOKUP section, 1.5
`Index.profiles`, 1.6 `Index.dates`; an older reader ignores them, a newer one reads older files as having none."""
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


spec_hash: Callable[[bytes], int] = zlib.crc32
"""The hash the LOOKUP section's slots use, of a spec's UTF-8 bytes: crc32 (stable across processes, unlike `hash`;
zlib's own function, so a probe makes no Python call for it)."""


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


def read_header(path: str | os.PathLike[str]) -> Header:
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


DATE_COLUMNS = ("deprecation_date", "retirement_date")
"""The columns (`contract.COLUMNS`) stored in `Index.dates`, not `Index.columns`."""


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
    dates: dict[str, list[tuple[int, str]]] = {}
    """The lifecycle columns (`DATE_COLUMNS`: `deprecation_date`, `retirement_date`) as (ordinal, date) pairs of
    the models that have one, apart from `columns`: every filter reads them (status as of the reader's day), and
    a few hundred pairs decode and scan in a fraction of what a full column takes. Format 1.6."""


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
