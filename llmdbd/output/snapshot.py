"""Encoding a `BuiltCatalog` into the snapshot file format defined in `llmdb.contract`."""

from __future__ import annotations

import zlib
from array import array
from typing import Any

import msgspec

from llmdb import FEATURES
from llmdb import contract as fmt
from llmdb.schema import SCHEMA_VERSION, STATUSES, Model
from llmdbd.engine import BuiltCatalog

_ENCODER = msgspec.msgpack.Encoder(order="deterministic")


def encode_snapshot(catalog: BuiltCatalog, *, epoch: int, built_at: float) -> bytes:
    """The whole file; the same catalog, epoch and time always give the same bytes."""
    specs = list(catalog.models)  # sorted by the engine
    models = [catalog.models[s] for s in specs]
    records, offsets, crcs = bytearray(), array("Q", [0]), array("I")
    for model in models:
        record = _ENCODER.encode(model)
        records += record
        offsets.append(len(records))
        crcs.append(zlib.crc32(record))
    index = fmt.Index(
        specs=specs,
        offsets=offsets.tobytes(),
        model_aliases=catalog.model_aliases,
        providers=list(catalog.providers.values()),
        provider_aliases=catalog.provider_aliases(),
        provider_ranges=_ranges(models),
        denied=catalog.denied,
        bitsets=_bitsets(models, catalog.denied),
        columns=_columns(models),
        excluded=catalog.excluded,
        names=catalog.names(),
        record_crcs=crcs.tobytes(),
    )
    sections = {
        fmt.INDEX: _ENCODER.encode(index),
        fmt.RECORDS: bytes(records),
        fmt.PROVENANCE: _ENCODER.encode(
            fmt.ProvenanceTable(
                sources=list(catalog.sources),
                models=[catalog.model_sources.get(s, {}) for s in specs],
                providers=catalog.provider_sources,
            )
        ),
        fmt.REPORT: _ENCODER.encode(catalog.report),
    }
    table, body, offset = bytearray(), bytearray(), fmt.HEADER_SIZE + fmt.SECTION.size * len(sections)
    for section_id, data in sections.items():
        table += fmt.SECTION.pack(section_id, zlib.crc32(data), offset + len(body), len(data))
        body += data
    digest = bytes.fromhex(catalog.content_hash)
    fields = [fmt.MAGIC, fmt.FORMAT_MAJOR, fmt.FORMAT_MINOR, SCHEMA_VERSION, epoch, built_at, digest, 0, len(sections)]
    crc = fmt.header_crc(fmt.HEADER.pack(*fields, 0), bytes(table))
    return fmt.HEADER.pack(*fields, crc) + bytes(table) + bytes(body)


def _ranges(models: list[Model]) -> dict[str, tuple[int, int]]:
    ranges: dict[str, tuple[int, int]] = {}
    for i, model in enumerate(models):
        start = ranges.get(model.provider, (i, i))[0]
        ranges[model.provider] = (start, i + 1)
    return ranges


def _bitsets(models: list[Model], denied: dict[str, str]) -> dict[str, bytes]:
    """Bit i of each set is model i; built column-wise from one set of names per model."""
    rows = [fmt.bitset_names(model, model.spec not in denied) for model in models]
    every = {*FEATURES, "allowed", "deprecated", "has_cost", *(f"status:{s}" for s in STATUSES)}.union(*rows)
    size = (len(models) + 7) // 8
    return {
        name: int("0" + "".join("1" if name in row else "0" for row in reversed(rows)), 2).to_bytes(size, "little")
        for name in sorted(every)
    }


def _columns(models: list[Model]) -> dict[str, list[Any]]:
    return {
        "context": [m.limits.context for m in models],
        "output": [m.limits.output for m in models],
        "input_cost": [m.cost.input if m.cost is not None else None for m in models],
        "output_cost": [m.cost.output if m.cost is not None else None for m in models],
        "release_date": [m.release_date for m in models],
        "family": [m.family for m in models],
        "base_id": [m.base_id for m in models],
    }
