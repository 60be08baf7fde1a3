"""Encoding a `BuiltCatalog` into the snapshot file format defined in `llmdb.contract`."""

from __future__ import annotations

import zlib
from array import array
from itertools import accumulate
from typing import Any, cast

import msgspec

from llmdb import FEATURES
from llmdb import contract as fmt
from llmdb.schema import SCHEMA_VERSION, STATUSES
from llmdbd.engine import BuiltCatalog
from llmdbd.engine.merge import FieldSource
from llmdbd.engine.records import ENCODER, Record

_ALWAYS = frozenset({*FEATURES, "allowed", "deprecated", "has_cost", *(f"status:{s}" for s in STATUSES)})
"""Bitsets every file has, even when no model is in them."""


class Memo:
    """What one encoding leaves for the next (a daemon keeps one): the records it placed and the bitsets over
    them, and the provenance maps it encoded. With untouched models kept as the same objects, a one-model patch
    flips a few bits and encodes one provenance map instead of redoing every model."""

    def __init__(self) -> None:
        self.specs: list[str] = []
        self.records: list[Record] = []
        self.allowed: list[bool] = []
        self.bits: dict[str, int] = {}
        self.provenance: dict[int, tuple[dict[str, FieldSource], msgspec.Raw]] = {}
        self.ranges: dict[str, tuple[int, int]] = {}
        self.keys = b""
        """`contract.lookup_keys(specs)`, with `ranges` valid while the specs are `specs`."""


def encode_snapshot(catalog: BuiltCatalog, *, epoch: int, built_at: float, memo: Memo | None = None) -> bytes:
    """The whole file; the same catalog, epoch and time always give the same bytes (with or without `memo`)."""
    memo = memo or Memo()
    specs = list(catalog.models)  # sorted by the engine
    records = catalog.records
    allowed = [s not in catalog.denied for s in specs]
    offsets = array("Q", [0])
    offsets.extend(accumulate(len(r.data) for r in records))
    size = (len(specs) + 7) // 8
    same_specs = bool(memo.keys) and specs == memo.specs
    ranges = memo.ranges if same_specs else _ranges(specs)
    keys = memo.keys if same_specs else fmt.lookup_keys(specs)
    bits = _bitsets(specs, records, allowed, memo)
    index = fmt.Index(
        specs=specs,
        offsets=offsets.tobytes(),
        model_aliases=catalog.model_aliases,
        providers=list(catalog.providers.values()),
        provider_aliases=catalog.provider_aliases(),
        provider_ranges=ranges,
        denied=catalog.denied,
        bitsets={k: v.to_bytes(size, "little") for k, v in sorted(bits.items())},
        columns=dict(zip(fmt.COLUMNS, map(list, zip(*(r.columns for r in records), strict=True)), strict=True)),
        excluded=catalog.excluded,
        names=catalog.names(),
        record_crcs=array("I", [r.crc for r in records]).tobytes(),
    )
    sections = {
        fmt.INDEX: ENCODER.encode(index),
        fmt.RECORDS: b"".join(r.data for r in records),
        fmt.PROVENANCE: ENCODER.encode(
            fmt.ProvenanceTable(
                sources=list(catalog.sources),
                # each map already encoded: msgspec writes `Raw` bytes as they are
                models=cast(Any, _encoded(memo, [catalog.model_sources.get(s, {}) for s in specs])),
                providers=catalog.provider_sources,
            )
        ),
        fmt.REPORT: ENCODER.encode(catalog.report),
        fmt.LOOKUP: fmt.lookup_section(specs, index.offsets, index.record_crcs, keys),
    }
    memo.specs, memo.records, memo.allowed, memo.bits = specs, records, allowed, bits
    memo.ranges, memo.keys = ranges, keys
    table, offset = bytearray(), fmt.HEADER_SIZE + fmt.SECTION.size * len(sections)
    for section_id, data in sections.items():
        table += fmt.SECTION.pack(section_id, zlib.crc32(data), offset, len(data))
        offset += len(data)
    digest = bytes.fromhex(catalog.content_hash)
    fields = [fmt.MAGIC, fmt.FORMAT_MAJOR, fmt.FORMAT_MINOR, SCHEMA_VERSION, epoch, built_at, digest, 0, len(sections)]
    crc = fmt.header_crc(fmt.HEADER.pack(*fields, 0), bytes(table))
    return b"".join([fmt.HEADER.pack(*fields, crc), table, *sections.values()])


def _ranges(specs: list[str]) -> dict[str, tuple[int, int]]:
    ranges: dict[str, tuple[int, int]] = {}
    for i, spec in enumerate(specs):
        provider = spec.partition(":")[0]
        start = ranges.get(provider, (i, i))[0]
        ranges[provider] = (start, i + 1)
    return ranges


def _bitsets(specs: list[str], records: list[Record], allowed: list[bool], memo: Memo) -> dict[str, int]:
    """Bit i of each set is model i. Over the same specs as `memo`'s, only the models that changed flip bits;
    otherwise the positions of each name are gathered and written as '0'/'1' text that `int` parses at once."""
    if memo.bits and specs == memo.specs:
        bits = dict(memo.bits)
        old_records, old_allowed = memo.records, memo.allowed
        for i, (record, yes) in enumerate(zip(records, allowed, strict=True)):
            if record is not old_records[i] or yes != old_allowed[i]:
                was = old_records[i].bits | ({"allowed"} if old_allowed[i] else set())
                now = record.bits | ({"allowed"} if yes else set())
                for name in was ^ now:
                    bits[name] = bits.get(name, 0) ^ (1 << i)
        return {k: v for k, v in bits.items() if v or k in _ALWAYS}
    positions: dict[str, list[int]] = {name: [] for name in _ALWAYS}
    for i, record in enumerate(records):
        for name in record.bits:
            positions.setdefault(name, []).append(i)
    positions["allowed"] = [i for i, yes in enumerate(allowed) if yes]
    out = {}
    for name, found in positions.items():
        text = bytearray(b"0" * len(records))
        for i in found:
            text[i] = 49  # '1'
        text.reverse()
        out[name] = int(b"0" + text, 2)
    return out


def _encoded(memo: Memo, maps: list[dict[str, FieldSource]]) -> list[msgspec.Raw]:
    """Each provenance map encoded, remembered by identity (the engine keeps untouched models' maps)."""
    old: dict[int, tuple[dict[str, FieldSource], msgspec.Raw]] = memo.provenance
    new: dict[int, tuple[dict[str, FieldSource], msgspec.Raw]] = {}
    out = []
    for m in maps:
        hit = old.get(id(m))
        if hit is None or hit[0] is not m:
            hit = (m, msgspec.Raw(ENCODER.encode(m)))
        new[id(m)] = hit
        out.append(hit[1])
    memo.provenance = new
    return out
