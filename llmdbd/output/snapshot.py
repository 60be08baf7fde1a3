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
from llmdbd.engine.catalog import CompiledProfile
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
        self.maps: list[dict[str, FieldSource]] = []
        self.raws: list[msgspec.Raw] = []
        """Each model's provenance map and its encoding, in ordinal order."""
        self.arrays: tuple[bytes, array[int], dict[str, list[Any]]] | None = None
        """Record offsets, record checksums and columns over `records`."""
        self.ranges: dict[str, tuple[int, int]] = {}
        self.keys = b""
        """`contract.lookup_keys(specs)`, with `ranges` valid while the specs are `specs`."""


def encode_snapshot(catalog: BuiltCatalog, *, epoch: int, built_at: float, memo: Memo | None = None) -> bytes:
    """The whole file; the same catalog, epoch and time always give the same bytes (with or without `memo`)."""
    memo = memo or Memo()
    specs = list(catalog.models)  # sorted by the engine
    records = catalog.records
    allowed = [s not in catalog.denied for s in specs]
    size = (len(specs) + 7) // 8
    same_specs = bool(memo.keys) and specs == memo.specs
    ranges = memo.ranges if same_specs else _ranges(specs)
    keys = memo.keys if same_specs else fmt.lookup_keys(specs)
    changed = _changed(records, allowed, memo) if same_specs else None
    bits = _bitsets(records, allowed, memo, changed)
    offsets, crcs, columns = arrays = _arrays(records, memo, changed)
    maps = [catalog.model_sources.get(s, {}) for s in specs]
    raws = _encoded(maps, memo if same_specs else None)
    index = fmt.Index(
        specs=specs,
        offsets=offsets,
        model_aliases=catalog.model_aliases,
        providers=list(catalog.providers.values()),
        provider_aliases=catalog.provider_aliases(),
        provider_ranges=ranges,
        denied=catalog.denied,
        bitsets={k: v.to_bytes(size, "little") for k, v in sorted(bits.items())},
        columns={k: v for k, v in columns.items() if k not in fmt.DATE_COLUMNS},
        dates={k: [(i, v) for i, v in enumerate(columns[k]) if v is not None] for k in fmt.DATE_COLUMNS},
        excluded=catalog.excluded,
        names=catalog.names(),
        record_crcs=crcs.tobytes(),
        profiles={
            name: _profile(profile, specs, records, allowed, bits, size) for name, profile in catalog.profiles.items()
        },
    )
    sections = {
        fmt.INDEX: ENCODER.encode(index),
        fmt.RECORDS: b"".join(r.data for r in records),
        fmt.PROVENANCE: ENCODER.encode(
            fmt.ProvenanceTable(
                sources=list(catalog.sources),
                # each map already encoded: msgspec writes `Raw` bytes as they are
                models=cast(Any, raws),
                providers=catalog.provider_sources,
            )
        ),
        fmt.REPORT: ENCODER.encode(catalog.report),
        fmt.LOOKUP: fmt.lookup_section(specs, index.offsets, index.record_crcs, keys),
    }
    memo.specs, memo.records, memo.allowed, memo.bits = specs, records, allowed, bits
    memo.ranges, memo.keys, memo.arrays, memo.maps, memo.raws = ranges, keys, arrays, maps, raws
    table, offset = bytearray(), fmt.HEADER_SIZE + fmt.SECTION.size * len(sections)
    for section_id, data in sections.items():
        table += fmt.SECTION.pack(section_id, zlib.crc32(data), offset, len(data))
        offset += len(data)
    digest = bytes.fromhex(catalog.content_hash)
    fields = [fmt.MAGIC, fmt.FORMAT_MAJOR, fmt.FORMAT_MINOR, SCHEMA_VERSION, epoch, built_at, digest, 0, len(sections)]
    crc = fmt.header_crc(fmt.HEADER.pack(*fields, 0), bytes(table))
    return b"".join([fmt.HEADER.pack(*fields, crc), table, *sections.values()])


_NOTHING = Record(b"", b"", 0, frozenset(), ())
"""What a model a profile excludes is in its bitsets: in none."""


def _profile(
    profile: CompiledProfile,
    specs: list[str],
    records: list[Record],
    allowed: list[bool],
    bits: dict[str, int],
    size: int,
) -> fmt.ProfileIndex:
    """One profile's index: the base's bitsets with the bits of its overridden, excluded and denied models
    flipped (as a memo-based encoding flips a patched model's), and the overridden records and column values."""
    ordinal = {spec: i for i, spec in enumerate(specs)}
    mine, permitted = list(records), [s not in profile.denied and s not in profile.excluded for s in specs]
    for spec, record in profile.records.items():
        mine[ordinal[spec]] = record
    for spec in profile.excluded:
        mine[ordinal[spec]] = _NOTHING
    base = Memo()
    base.records, base.allowed, base.bits = records, allowed, bits
    changed = [i for i in range(len(specs)) if mine[i] is not records[i] or permitted[i] != allowed[i]]
    columns: dict[str, dict[str, Any]] = {}
    for spec, record in profile.records.items():
        for k, name in enumerate(fmt.COLUMNS):
            if record.columns[k] != records[ordinal[spec]].columns[k]:
                columns.setdefault(name, {})[spec] = record.columns[k]
    return fmt.ProfileIndex(
        definition=profile.definition,
        bitsets={k: v.to_bytes(size, "little") for k, v in sorted(_bitsets(mine, permitted, base, changed).items())},
        denied=profile.denied,
        excluded=profile.excluded,
        records={spec: record.data for spec, record in profile.records.items()},
        columns=columns,
    )


def _ranges(specs: list[str]) -> dict[str, tuple[int, int]]:
    ranges: dict[str, tuple[int, int]] = {}
    for i, spec in enumerate(specs):
        provider = spec.partition(":")[0]
        start = ranges.get(provider, (i, i))[0]
        ranges[provider] = (start, i + 1)
    return ranges


def _changed(records: list[Record], allowed: list[bool], memo: Memo) -> list[int]:
    """The ordinals whose record or allowed state differs from `memo`'s (over the same specs)."""
    pairs = zip(records, memo.records, allowed, memo.allowed, strict=True)
    return [i for i, (record, was, yes, was_yes) in enumerate(pairs) if record is not was or yes != was_yes]


def _bitsets(records: list[Record], allowed: list[bool], memo: Memo, changed: list[int] | None) -> dict[str, int]:
    """Bit i of each set is model i. With `changed` (the models that differ from `memo`'s, over the same specs),
    only those flip bits; otherwise the positions of each name are gathered and written as '0'/'1' text that
    `int` parses at once."""
    if changed is not None:
        bits = dict(memo.bits)
        for i in changed:
            was = memo.records[i].bits | ({"allowed"} if memo.allowed[i] else set())
            now = records[i].bits | ({"allowed"} if allowed[i] else set())
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


def _arrays(
    records: list[Record], memo: Memo, changed: list[int] | None
) -> tuple[bytes, array[int], dict[str, list[Any]]]:
    """Record offsets, record checksums and columns. With `changed`, they are `memo`'s patched at those models
    (while every changed record kept its length); otherwise computed anew."""
    old = memo.records
    if (
        changed is not None
        and memo.arrays is not None
        and all(len(records[i].data) == len(old[i].data) for i in changed)
    ):
        offsets, old_crcs, old_columns = memo.arrays
        crcs = array("I", old_crcs)
        columns = {name: list(values) for name, values in old_columns.items()}
        for i in changed:
            crcs[i] = records[i].crc
            for name, value in zip(fmt.COLUMNS, records[i].columns, strict=True):
                columns[name][i] = value
        return offsets, crcs, columns
    starts = array("Q", [0])
    starts.extend(accumulate(len(r.data) for r in records))
    columns = dict(zip(fmt.COLUMNS, map(list, zip(*(r.columns for r in records), strict=True)), strict=True))
    return starts.tobytes(), array("I", [r.crc for r in records]), columns


def _encoded(maps: list[dict[str, FieldSource]], memo: Memo | None) -> list[msgspec.Raw]:
    """Each provenance map encoded; over the same specs as `memo`'s, a map that is the same object as last time
    (the engine keeps untouched models' maps) keeps its encoding."""
    if memo is None:
        return [msgspec.Raw(ENCODER.encode(m)) for m in maps]
    return [
        raw if m is was else msgspec.Raw(ENCODER.encode(m))
        for m, was, raw in zip(maps, memo.maps, memo.raws, strict=True)
    ]
