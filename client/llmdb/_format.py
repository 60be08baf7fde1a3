"""The snapshot file format, one definition for the writer (llmdbd) and the reader (llmdb).

Layout (all integers little-endian; see docs/snapshot-format.md):

    0    header, HEADER_SIZE bytes: magic, format version, schema version, epoch, build time, content hash,
         flags, section count, header checksum
    128  section table: SECTION_COUNT x (id u32, crc32 u32, offset u64, length u64)
    ...  sections: INDEX, RECORDS, PROVENANCE, REPORT (msgpack)

The flags word is the only part of a file ever written after publishing (the superseded bit), so it is
excluded from every checksum.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from typing import Any

from msgspec import Struct

from llmdb.schema import Overridden, Provenance, Provider, SourceInfo

MAGIC = b"LLMDBSNP"
FORMAT_MAJOR = 1
FORMAT_MINOR = 0
HEADER = struct.Struct("<8sHHIQd32sIII52x")
"""magic, major, minor, schema version, epoch, built_at, sha256, flags, section count, header crc32."""
HEADER_SIZE = HEADER.size
FLAGS_OFFSET = 8 + 2 + 2 + 4 + 8 + 8 + 32
"""Byte offset of the flags word (mutable: not covered by checksums)."""
SUPERSEDED = 1
"""Flags bit set by the publisher on a file once a newer one has replaced it."""
SECTION = struct.Struct("<IIQQ")
"""id, crc32, offset, length."""

INDEX, RECORDS, PROVENANCE, REPORT = 1, 2, 3, 4
SECTION_NAMES = {INDEX: "index", RECORDS: "records", PROVENANCE: "provenance", REPORT: "report"}


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
    bitsets: dict[str, bytes]
    """Feature, `status:<s>`, `input:<m>`, `output:<m>`, `allowed`, `deprecated`, `has_cost` → little-endian bits."""
    columns: dict[str, list[Any]]
    """`context`, `output`, `input_cost`, `output_cost`, `release_date`, `family`: one value per ordinal."""


FieldSource = tuple[int, bool, tuple[tuple[int, Any], ...]]
"""Where one field's value came from, compactly: `(source, deleted, ((source, value replaced), ...))`, sources
being positions in a list of `SourceInfo`. The engine records this during the merge; snapshots store it as is."""


class ProvenanceTable(Struct, frozen=True, kw_only=True, array_like=True):
    """Every build input (and stage) once, then per model and provider: field path → `FieldSource`."""

    sources: list[SourceInfo]
    models: list[dict[str, FieldSource]]
    """Per ordinal."""
    providers: dict[str, dict[str, FieldSource]]


def expand(sources: Sequence[SourceInfo], fields: dict[str, FieldSource]) -> dict[str, Provenance]:
    """Compact field sources → `Provenance` values (what `explain` returns)."""
    out = {}
    for path, (index, deleted, replaced) in fields.items():
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


def header_crc(header: bytes, table: bytes) -> int:
    """Checksum of the header (flags and the checksum field itself excluded) and the section table."""
    crc = zlib.crc32(header[:FLAGS_OFFSET])
    crc = zlib.crc32(header[FLAGS_OFFSET + 4 : FLAGS_OFFSET + 8], crc)
    return zlib.crc32(table, crc)
