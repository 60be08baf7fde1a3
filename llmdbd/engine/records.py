"""What a snapshot holds of each model, derived from the model alone: its canonical msgpack record, the record's
sha256 and checksum, the bitsets it is in and its column values.

A daemon's rebuild keeps untouched models as the same objects (`ModelCache`), so `Records` remembers this by
model identity: a one-model patch encodes one record, not the catalog (publish was 17 ms of
re-encoding and 32-52 ms of bitset rows per drop)."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from typing import Any, NamedTuple

import msgspec

from llmdb import contract as fmt
from llmdb.schema import Model

ENCODER = msgspec.msgpack.Encoder(order="deterministic")
"""The canonical encoding: records, the content hash and the snapshot's sections all use it."""


class Record(NamedTuple):
    data: bytes
    """`ENCODER.encode(model)`: what the RECORDS section holds."""
    digest: bytes
    """sha256 of `data`: the content hash covers the models through these (a rebuild hashes ~32 bytes per
    model, not every record again)."""
    crc: int
    bits: frozenset[str]
    """The bitsets the model is in, except `allowed` (that depends on the rules, not the model)."""
    columns: tuple[Any, ...]
    """One value per `contract.COLUMNS`."""


_BITS: dict[frozenset[str], frozenset[str]] = {}
"""One shared set per distinct combination of bitset names (a few hundred for ~9,000 models: ~8 MiB less in a
daemon than a set per model)."""


def record(model: Model) -> Record:
    data = ENCODER.encode(model)
    bits = frozenset(fmt.bitset_names(model, False))
    return Record(
        data, hashlib.sha256(data).digest(), zlib.crc32(data), _BITS.setdefault(bits, bits), fmt.column_values(model)
    )


class Records:
    """`record(model)` remembered by model identity, for the models of the latest call only (no growth)."""

    def __init__(self) -> None:
        self._memo: dict[int, tuple[Model, Record]] = {}

    def __call__(self, models: Iterable[Model]) -> list[Record]:
        old, new, out = self._memo, {}, []
        for model in models:
            hit = old.get(id(model))
            if hit is None or hit[0] is not model:
                hit = (model, record(model))
            new[id(model)] = hit
            out.append(hit[1])
        self._memo = new
        return out
