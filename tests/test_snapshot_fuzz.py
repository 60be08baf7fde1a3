"""Fuzzing the snapshot reader: a malformed file is read correctly or refused with an `LLMDBError`, nothing else.

Several hundred deterministic mutations of one small valid snapshot (built from a slice of the real upstream
data), each written with every checksum recomputed so that the mutation reaches the parser rather than stopping
at a checksum. Each file is opened and exercised in a child process under a memory limit and a time limit, so a
hang, an unbounded allocation or a crash of the interpreter is caught too. The contract checked, per file and
per call: the call works, or raises an `LLMDBError` subclass; never another exception, never a hang, never a
crash, and never a wrong model (`get(spec).spec == spec` for every spec the file's index lists).

The mutations are generic: sections are found through the section table, the index is decoded untyped and its
fields are found by name through `contract.Index.__struct_fields__`, so the test keeps running when the format
gains fields or sections. A failing case is reported with its family, seed and mutation, and the exception's
type, message and last traceback frames from the child, so a developer can reproduce it.
"""

from __future__ import annotations

import json
import os
import random
import resource
import struct
import subprocess
import sys
import zlib
from array import array
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from catalogs import API, LITELLM

import llmdb
from llmdb import contract as fmt
from llmdbd import inputs
from llmdbd.engine import BuiltCatalog, build
from llmdbd.engine.filters import Rules
from llmdbd.engine.profiles import build_profiles
from llmdbd.output.publish import write_snapshot
from llmdbd.sources import litellm, modelsdev

MEMORY_LIMIT = 1536 * 2**20
"""RLIMIT_AS of each child: a reader that allocates what a huge length field says fails there, not the machine."""
CASE_SECONDS = 20
"""A child taking longer than this over one file dumps its stacks and exits: a hang."""
BATCH_SECONDS = 240
"""The child's wall-time limit for one batch (a backstop to `CASE_SECONDS`)."""
BATCH_SIZE = 50
WORKERS = 2
PROVIDERS = ("anthropic", "deepseek", "mistral", "xai")
"""The slice of the upstream data the base file holds (about 200 models, ~400 KB; one more provider is taken when
the count is a multiple of 8)."""

PROFILE = "prod"
"""The base file's one profile (an override, an exclusion, a denial), which the profile family opens."""

FIELDS = {name: i for i, name in enumerate(fmt.Index.__struct_fields__)}
"""`Index` field name → position in its msgpack array."""
PROVENANCE_FIELDS = {name: i for i, name in enumerate(fmt.ProvenanceTable.__struct_fields__)}
SECTION_NAMES = dict(fmt.SECTION_NAMES)


# -- the base file -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Base:
    """The valid snapshot every case mutates, taken apart."""

    data: bytes
    header: tuple[Any, ...]
    """`contract.HEADER`'s fields without the trailing checksum."""
    sections: tuple[tuple[int, bytes], ...]
    """(id, bytes) in section-table order."""
    index: list[Any]
    """The INDEX section decoded untyped: positions as in `FIELDS`."""
    records: tuple[bytes, ...]
    specs: tuple[str, ...]
    excluded: str
    """The spec `PROFILE` excludes."""

    def section(self, sid: int) -> bytes:
        return next(body for s, body in self.sections if s == sid)

    @property
    def n(self) -> int:
        return len(self.specs)

    def ix(self) -> list[Any]:
        """A fresh, deep copy of the untyped index to edit."""
        copy: list[Any] = msgspec.msgpack.decode(self.section(fmt.INDEX))
        return copy


def split(data: bytes) -> tuple[list[Any], list[tuple[int, bytes]]]:
    """A file's header fields (without its checksum) and its sections in table order."""
    header = list(fmt.HEADER.unpack_from(data))[:-1]
    sections = []
    for i in range(header[-1]):
        sid, _, offset, length = fmt.SECTION.unpack_from(data, fmt.HEADER_SIZE + i * fmt.SECTION.size)
        sections.append((sid, data[offset : offset + length]))
    return header, sections


def assemble(
    header: list[Any] | tuple[Any, ...],
    sections: list[tuple[int, bytes]] | tuple[tuple[int, bytes], ...],
    *,
    trailing: bytes = b"",
    gap: bytes = b"",
) -> bytes:
    """A file of `sections` (laid out in order, `gap` between them), every checksum computed."""
    fields = list(header)
    fields[-1] = len(sections)
    table, body = bytearray(), bytearray()
    start = fmt.HEADER_SIZE + fmt.SECTION.size * len(sections)
    for sid, section in sections:
        if body:
            body += gap
        table += fmt.SECTION.pack(sid, zlib.crc32(section), start + len(body), len(section))
        body += section
    crc = fmt.header_crc(fmt.HEADER.pack(*fields, 0), bytes(table))
    return fmt.HEADER.pack(*fields, crc) + bytes(table) + bytes(body) + trailing


def reheader(data: bytes | bytearray) -> bytes:
    """`data` with its header checksum recomputed over whatever header and section table it now has."""
    count = struct.unpack_from("<I", data, fmt.FLAGS_OFFSET + 4)[0]
    table = bytes(data[fmt.HEADER_SIZE : fmt.HEADER_SIZE + fmt.SECTION.size * min(count, 2**20)])
    crc = fmt.header_crc(bytes(data[: fmt.HEADER_SIZE]), table)
    out = bytearray(data)
    struct.pack_into("<I", out, fmt.FLAGS_OFFSET + 8, crc)
    return bytes(out)


def replace(base: Base, changes: dict[int, bytes]) -> bytes:
    """The base file with some sections' bytes replaced, every checksum recomputed."""
    return assemble(base.header, [(sid, changes.get(sid, body)) for sid, body in base.sections])


def encode(value: Any) -> bytes:
    return msgspec.msgpack.encode(value)


def with_index(base: Base, edit: Callable[[list[Any]], None]) -> bytes:
    """The base file with its index edited (`edit` changes the untyped list in place)."""
    ix = base.ix()
    edit(ix)
    return replace(base, {fmt.INDEX: encode(ix)})


def packed(values: list[int], code: str) -> bytes:
    return array(code, values).tobytes()


def unpacked(raw: bytes, code: str) -> list[int]:
    out = array(code)
    out.frombytes(raw)
    return list(out)


def with_records(
    base: Base,
    records: list[bytes],
    *,
    offsets: bool = True,
    crcs: bool = True,
    edit: Callable[[list[Any]], None] | None = None,
) -> bytes:
    """The base file with these records; the index's offsets and record checksums made to match them (unless
    told not to: then they stay the base's), then `edit` applied to the index."""
    ix = base.ix()
    if offsets:
        ends = [0]
        for r in records:
            ends.append(ends[-1] + len(r))
        ix[FIELDS["offsets"]] = packed(ends, "Q")
    body = b"".join(records)
    if crcs and "record_crcs" in FIELDS:
        ends = unpacked(ix[FIELDS["offsets"]], "Q")
        ix[FIELDS["record_crcs"]] = packed([zlib.crc32(body[ends[i] : ends[i + 1]]) for i in range(len(ends) - 1)], "I")
    if edit is not None:
        edit(ix)
    return replace(base, {fmt.INDEX: encode(ix), fmt.RECORDS: body})


def record_map(base: Base, i: int) -> dict[str, Any]:
    value: dict[str, Any] = msgspec.msgpack.decode(base.records[i])
    return value


def nested_list(depth: int) -> msgspec.Raw:
    return msgspec.Raw(b"\x91" * depth + b"\xc0")


def nested_map(depth: int) -> msgspec.Raw:
    return msgspec.Raw(b"\x81\xa1k" * depth + b"\xc0")


GARBAGE: tuple[tuple[str, msgspec.Raw], ...] = (
    ("int 7", msgspec.Raw(encode(7))),
    ("int -1", msgspec.Raw(encode(-1))),
    ("uint64 max", msgspec.Raw(encode(2**64 - 1))),
    ("nil", msgspec.Raw(encode(None))),
    ("true", msgspec.Raw(encode(True))),
    ("float nan", msgspec.Raw(encode(float("nan")))),
    ("str", msgspec.Raw(encode("zombie"))),
    ("bytes", msgspec.Raw(encode(b"\x00" * 9))),
    ("empty list", msgspec.Raw(encode([]))),
    ("empty map", msgspec.Raw(encode({}))),
    ("list of ints", msgspec.Raw(encode([1, 2, 3]))),
    ("map of str", msgspec.Raw(encode({"a": "b"}))),
    ("list nested 10,000 deep", nested_list(10_000)),
    ("map nested 10,000 deep", nested_map(10_000)),
    ("array32 header 2**32-1, no items", msgspec.Raw(b"\xdd\xff\xff\xff\xff")),
    ("map32 header 2**32-1, no items", msgspec.Raw(b"\xdf\xff\xff\xff\xff")),
    ("str32 header 2**32-1, no bytes", msgspec.Raw(b"\xdb\xff\xff\xff\xff")),
    ("bin32 header 2**32-1, no bytes", msgspec.Raw(b"\xc6\xff\xff\xff\xff")),
    ("ext8 type 5", msgspec.Raw(b"\xc7\x03\x05abc")),
    ("timestamp ext", msgspec.Raw(b"\xd6\xff\x00\x00\x00\x01")),
)
"""Other valid (or barely valid) msgpack values to put where a section or a field belongs."""

WRONG_BYTES: tuple[tuple[str, bytes], ...] = (
    ("empty", b""),
    ("reserved byte 0xc1", b"\xc1"),
    ("one nil then junk", b"\xc0\x00\x01\x02"),
    ("array16 header 65535, two items", b"\xdc\xff\xff\x01\x02"),
)
"""Byte strings that are not one msgpack value."""


@pytest.fixture(scope="session")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return make_base(tmp_path_factory.mktemp("fuzz-base"))


def make_base(root: Path) -> Base:
    path = root / "base.llmdb"
    write_snapshot(_catalog(root), path, epoch=5, built_at=1767225600.0)
    data = path.read_bytes()
    header, sections = split(data)
    assert assemble(header, sections) == data, "the test's file layout does not match the writer's"
    sections_dict = dict(sections)
    assert set(SECTION_NAMES) <= set(sections_dict)
    index: list[Any] = msgspec.msgpack.decode(sections_dict[fmt.INDEX])
    assert encode(index) == sections_dict[fmt.INDEX], "the index does not round-trip untyped"
    ends = unpacked(index[FIELDS["offsets"]], "Q")
    body = sections_dict[fmt.RECORDS]
    records = tuple(body[ends[i] : ends[i + 1]] for i in range(len(ends) - 1))
    specs = tuple(index[FIELDS["specs"]])
    assert len(records) == len(specs) > 8
    assert sections_dict[fmt.LOOKUP] == fmt.lookup_section(
        specs, index[FIELDS["offsets"]], index[FIELDS["record_crcs"]]
    )
    (excluded,) = index[FIELDS["profiles"]][PROFILE]["excluded"]
    return Base(
        data=data,
        header=tuple(header),
        sections=tuple(sections),
        index=index,
        records=records,
        specs=specs,
        excluded=excluded,
    )


def _catalog(root: Path) -> BuiltCatalog:
    """A slice of the real upstream data (../shared/upstream, which the suite requires)."""
    api = json.loads(API.read_bytes())
    lite = json.loads(LITELLM.read_bytes())
    kept = {k: v for k, v in lite.items() if isinstance(v, dict) and v.get("litellm_provider") in PROVIDERS}
    (root / "litellm.json").write_text(json.dumps(kept))
    catalog = None
    for extra in ((), ("cohere",), ("groq",), ("perplexity",), ("cohere", "groq")):
        # A model count that is no multiple of 8, so the last bitset byte has bits past the last model.
        chosen = {*PROVIDERS, *extra}
        (root / "api.json").write_text(json.dumps({k: v for k, v in api.items() if k in chosen}))
        layers = [litellm.load_path(root / "litellm.json"), modelsdev.load_path(root / "api.json")]
        catalog = build(layers, Rules(deny={"mistral": ["*embed*"]}))
        if len(catalog.models) % 8:
            break
    assert catalog is not None and len(catalog.models) % 8, "no slice leaves spare bits in the last bitset byte"
    specs = sorted(catalog.models)
    profile = {
        "deny": {"xai": "*"},
        "exclude": [specs[2]],
        "overrides": {
            "models": [{"spec": specs[1], "limits": {"output": 1234}, "capabilities": {"tools": {"enabled": False}}}]
        },
    }
    return build_profiles(catalog, layers, inputs.profiles({PROFILE: profile}, layers))


# -- the cases -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    family: str
    seed: int
    what: str
    data: bytes
    control: bool = False
    names: tuple[str, ...] = ()
    """Names to look up besides the usual ones (those a mutation added to the names or alias tables)."""
    refuse: tuple[str, ...] = ()
    """Calls that must raise an `LLMDBError` on this file (what docs/snapshot-format.md says is refused)."""
    present: tuple[str, ...] = ()
    """Specs the file holds: `get` of each answers it or refuses the file (`SnapshotError`), never not-found."""
    profile: str | None = None
    """Open the file as this profile."""
    fresh: bool = False
    """Each call on a catalog opened for it alone, so each is the first to read the bad part (else all calls
    are made on one catalog, in order)."""

    @property
    def id(self) -> str:
        return f"{self.family}#{self.seed}"


class Cases:
    """Collects cases, numbering each family's from 0."""

    def __init__(self) -> None:
        self.all: list[Case] = []
        self._next: dict[str, int] = {}

    def add(
        self,
        family: str,
        what: str,
        data: bytes,
        *,
        control: bool = False,
        names: tuple[str, ...] = (),
        refuse: tuple[str, ...] = (),
        present: tuple[str, ...] = (),
        profile: str | None = None,
        fresh: bool = False,
    ) -> None:
        seed = self._next.get(family, 0)
        self._next[family] = seed + 1
        self.all.append(Case(family, seed, what, data, control, names, refuse, present, profile, fresh))


def rng_for(*parts: object) -> random.Random:
    return random.Random(":".join(map(str, parts)))


def flips(base: Base, out: Cases) -> None:
    """1. Bytes flipped inside each section (section checksums recomputed; for RECORDS, every other case also
    has the record checksums recomputed so the flipped record reaches the decoder), and inside the header."""
    for sid, body in base.sections:
        name = SECTION_NAMES.get(sid, f"#{sid}")
        for k in range(30 if sid == fmt.RECORDS else 20):
            rng = rng_for("flip", sid, k)
            flipped = bytearray(body)
            where = sorted({rng.randrange(len(flipped)) for _ in range(rng.choice((1, 1, 2, 4)))})
            for at in where:
                flipped[at] ^= rng.randrange(1, 256)
            what = f"{name} section: bytes at {where} flipped"
            if sid == fmt.RECORDS and k % 2 == 0:
                out.add("flip", what + ", record checksums recomputed", records_body(base, bytes(flipped)))
            else:
                out.add("flip", what, replace(base, {sid: bytes(flipped)}))
    for k in range(20):
        rng = rng_for("flip-header", k)
        at = rng.choice([i for i in range(fmt.FLAGS_OFFSET + 8) if not 8 <= i < 12] + [8, 9, 10, 11])
        data = bytearray(base.data)
        data[at] ^= 1 << rng.randrange(8)
        out.add("flip", f"header byte {at} flipped, header checksum recomputed", reheader(data))


def records_body(base: Base, body: bytes) -> bytes:
    """The base file with RECORDS replaced by `body` (same offsets) and the record checksums recomputed."""
    ix = base.ix()
    ends = unpacked(ix[FIELDS["offsets"]], "Q")
    if "record_crcs" in FIELDS:
        ix[FIELDS["record_crcs"]] = packed([zlib.crc32(body[ends[i] : ends[i + 1]]) for i in range(len(ends) - 1)], "I")
    return replace(base, {fmt.INDEX: encode(ix), fmt.RECORDS: body})


def truncations(base: Base, out: Cases) -> None:
    """2. The file cut short; sections cut (the table saying so); records cut, with offsets adjusted or not."""
    size = len(base.data)
    table_end = fmt.HEADER_SIZE + fmt.SECTION.size * len(base.sections)
    cuts = [0, 7, 64, fmt.HEADER_SIZE - 1, fmt.HEADER_SIZE, table_end - 1, table_end, size - 1]
    rng = rng_for("cut-file")
    offset = table_end
    for _, body in base.sections:
        cuts.append(offset + rng.randrange(max(1, len(body))))
        offset += len(body)
    for cut in cuts:
        out.add("truncate", f"file cut to {cut} of {size} bytes", base.data[:cut])
    for sid, body in base.sections:
        name = SECTION_NAMES.get(sid, f"#{sid}")
        for k in range(5):
            keep = (0, 1, len(body) // 2, len(body) - 1, rng_for("cut", sid, k).randrange(len(body)))[k]
            out.add("truncate", f"{name} section cut to {keep} of {len(body)} bytes", replace(base, {sid: body[:keep]}))
    for k in range(8):
        rng = rng_for("cut-record", k)
        i = rng.randrange(base.n)
        record = base.records[i]
        keep = rng.randrange(len(record))
        records = list(base.records)
        records[i] = record[:keep] if k % 2 else record[len(record) - keep :]
        end = "end" if k % 2 else "start"
        out.add(
            "truncate", f"record {i} cut to {keep} bytes at its {end}, offsets adjusted", with_records(base, records)
        )
    for k in range(8):
        rng = rng_for("cut-record-stale", k)
        i = rng.randrange(base.n)
        cut = rng.randrange(1, len(base.records[i]) + 1)
        records = list(base.records)
        records[i] = base.records[i][:-cut]
        pad = k % 2 == 1
        if pad:  # the section keeps its size, so the offsets still fit: later records are read shifted
            records.append(b"\xc0" * cut)
        out.add(
            "truncate",
            f"record {i} lost its last {cut} bytes, offsets not adjusted"
            + (", section padded to its size, record checksums recomputed" if pad else ""),
            with_records(base, records, offsets=False, crcs=pad),
        )
    ends = unpacked(base.index[FIELDS["offsets"]], "Q")
    out.add(
        "truncate",
        "the last record removed, offsets kept",
        with_records(base, list(base.records[:-1]), offsets=False, crcs=False),
    )
    out.add(
        "truncate",
        "every record but the first removed, offsets kept",
        replace(base, {fmt.RECORDS: base.section(fmt.RECORDS)[: ends[1]]}),
    )


def _table_entry(data: bytes | bytearray, i: int) -> tuple[int, int, int, int]:
    sid, crc, offset, length = fmt.SECTION.unpack_from(data, fmt.HEADER_SIZE + i * fmt.SECTION.size)
    return sid, crc, offset, length


def with_entry(
    base: Base, i: int, *, sid: int | None = None, offset: int | None = None, length: int | None = None
) -> bytes:
    """The base file with section-table entry `i` changed; its checksum recomputed over the bytes it now names
    when they are inside the file, and the header checksum recomputed."""
    data = bytearray(base.data)
    old_sid, crc, old_offset, old_length = _table_entry(data, i)
    sid = old_sid if sid is None else sid
    offset = old_offset if offset is None else offset
    length = old_length if length is None else length
    if offset + length <= len(data):
        crc = zlib.crc32(data[offset : offset + length])
    fmt.SECTION.pack_into(data, fmt.HEADER_SIZE + i * fmt.SECTION.size, sid, crc, offset, length)
    return reheader(data)


def table(base: Base, out: Cases) -> None:
    """3. Section-table entries pointing past the end, at 2**63, overlapping, empty; counts and ids changed."""
    size = len(base.data)
    count = len(base.sections)
    table_end = fmt.HEADER_SIZE + fmt.SECTION.size * count
    for i in range(count):
        sid, _, offset, length = _table_entry(base.data, i)
        name = SECTION_NAMES.get(sid, f"#{sid}")
        other = _table_entry(base.data, (i + 1) % count)
        variants: list[tuple[str, dict[str, int]]] = [
            ("offset past the end", {"offset": size + 1}),
            ("offset 2**63", {"offset": 2**63}),
            ("offset 2**64-1", {"offset": 2**64 - 1}),
            ("length 2**63", {"length": 2**63}),
            ("length 2**64-1", {"length": 2**64 - 1}),
            ("length 0", {"length": 0}),
            ("offset 0: over the header", {"offset": 0}),
            ("offset into the section table", {"offset": fmt.HEADER_SIZE}),
            ("the next section's offset and length", {"offset": other[2], "length": other[3]}),
            ("half overlapping the next section", {"offset": offset + length // 2}),
            ("one byte longer", {"length": length + 1}),
            ("one byte shorter", {"length": max(0, length - 1)}),
            ("ending exactly at the end of the file", {"offset": size - length}),
        ]
        for what, change in variants:
            out.add("table", f"{name} entry: {what}", with_entry(base, i, **change))
    for new_count in (0, 1, 2, count - 1, count + 1, count + 3, 1000, 2**32 - 1):
        data = bytearray(base.data)
        struct.pack_into("<I", data, fmt.FLAGS_OFFSET + 4, new_count)
        out.add("table", f"section count {count} → {new_count}", reheader(data))
    ids = [_table_entry(base.data, i)[0] for i in range(count)]
    for i in range(count):
        name = SECTION_NAMES.get(ids[i], f"#{ids[i]}")
        out.add("table", f"{name} entry: id 0", with_entry(base, i, sid=0))
        out.add("table", f"{name} entry: id 2**32-1", with_entry(base, i, sid=2**32 - 1))
        dup = ids[(i + 1) % count]
        out.add("table", f"{name} entry: id {dup} (a duplicate)", with_entry(base, i, sid=dup))
    for i in range(count):
        for j in range(i + 1, count):
            data = bytearray(with_entry(base, i, sid=ids[j]))
            sid, crc, offset, length = _table_entry(data, j)
            fmt.SECTION.pack_into(data, fmt.HEADER_SIZE + j * fmt.SECTION.size, ids[i], crc, offset, length)
            out.add("table", f"ids of entries {i} and {j} swapped", reheader(data))
    out.add(
        "table",
        "section table entries zeroed",
        reheader(base.data[: fmt.HEADER_SIZE] + bytes(table_end - fmt.HEADER_SIZE) + base.data[table_end:]),
    )


def values(base: Base, out: Cases) -> None:
    """4. Sections and index fields replaced by other msgpack values: wrong types, deep nesting, huge headers."""
    for sid, _ in base.sections:
        name = SECTION_NAMES.get(sid, f"#{sid}")
        for what, raw in GARBAGE:
            out.add("values", f"{name} section replaced by {what}", replace(base, {sid: bytes(raw)}))
        for what, data in WRONG_BYTES:
            out.add("values", f"{name} section replaced by {what}", replace(base, {sid: data}))
    picks = [g for g in GARBAGE if g[0] in {"int 7", "nil", "str", "bytes", "empty list", "empty map", "map of str"}]
    picks += [g for g in GARBAGE if "10,000" in g[0] or "header" in g[0]]
    for field in FIELDS:
        for k, (what, raw) in enumerate(picks):
            if k % 2 and field not in ("specs", "offsets", "providers", "bitsets", "columns", "record_crcs"):
                continue  # every value for the fields that matter most, every other one for the rest

            def edit(ix: list[Any], field: str = field, raw: msgspec.Raw = raw) -> None:
                ix[FIELDS[field]] = raw

            out.add("values", f"index field {field!r} replaced by {what}", with_index(base, edit))
    ix = base.ix()
    out.add("values", "index: an empty array", replace(base, {fmt.INDEX: encode([])}))
    out.add(
        "values", "index: a map of its fields", replace(base, {fmt.INDEX: encode(dict(zip(FIELDS, ix, strict=True)))})
    )
    out.add("values", "index: its first field only", replace(base, {fmt.INDEX: encode(ix[:1])}))


def index_parts(base: Base, out: Cases) -> None:
    """5. Index fields whose lengths and ranges disagree with each other or with the file."""
    n, specs = base.n, list(base.specs)
    width = (n + 7) // 8
    p0, plast = specs[0].split(":", 1)[0], specs[-1].split(":", 1)[0]
    ends = unpacked(base.index[FIELDS["offsets"]], "Q")
    records_size = len(base.section(fmt.RECORDS))

    def add(what: str, edit: Callable[[list[Any]], None], names: tuple[str, ...] = ()) -> None:
        out.add("index", what, with_index(base, edit), names=names)

    def setter(field: str, value: Any) -> Callable[[list[Any]], None]:
        def edit(ix: list[Any]) -> None:
            ix[FIELDS[field]] = value

        return edit

    def offsets(values: list[int]) -> Callable[[list[Any]], None]:
        return setter("offsets", packed(values, "Q"))

    raw_offsets = bytes(base.index[FIELDS["offsets"]])
    add("offsets: one fewer than specs + 1", setter("offsets", raw_offsets[:-8]))
    add("offsets: the first dropped", setter("offsets", raw_offsets[8:]))
    add("offsets: one extra", setter("offsets", raw_offsets + raw_offsets[-8:]))
    add("offsets: not a multiple of 8 bytes (one byte short)", setter("offsets", raw_offsets[:-1]))
    add("offsets: not a multiple of 8 bytes (3 extra)", setter("offsets", raw_offsets + b"\x00\x00\x00"))
    add("offsets: empty", setter("offsets", b""))
    add("offsets: decreasing (2 and 3 swapped)", offsets([*ends[:2], ends[3], ends[2], *ends[4:]]))
    add("offsets: all zero", offsets([0] * len(ends)))
    add("offsets: the last past the section", offsets([*ends[:-1], records_size + 1]))
    add("offsets: the last 2**64-1", offsets([*ends[:-1], 2**64 - 1]))
    add("offsets: a middle one 2**63", offsets([*ends[: n // 2], 2**63, *ends[n // 2 + 1 :]]))
    add("offsets: the first 1", offsets([1, *ends[1:]]))
    add("offsets: a middle one past the section", offsets([*ends[:3], records_size + 100, *ends[4:]]))
    add("offsets: record 1 empty", offsets([ends[0], ends[1], ends[1], *ends[3:]]))
    add("offsets: all equal to the section size but the first", offsets([0] + [records_size] * n))
    for k in range(8):
        rng = rng_for("offset", k)
        i = rng.randrange(1, len(ends))
        at = rng.choice((rng.randrange(records_size + 1), rng.randrange(2**64), ends[i] + rng.choice((-1, 1))))
        add(f"offsets: offset {i} = {at}", offsets([*ends[:i], at, *ends[i + 1 :]]))
    if "record_crcs" in FIELDS:
        crcs = bytes(base.index[FIELDS["record_crcs"]])
        add("record_crcs: one fewer", setter("record_crcs", crcs[:-4]))
        add("record_crcs: one extra", setter("record_crcs", crcs + crcs[:4]))
        add("record_crcs: not a multiple of 4 bytes", setter("record_crcs", crcs[:-1]))
        add("record_crcs: empty (the records section is verified whole)", setter("record_crcs", b""))
        add("record_crcs: all zero", setter("record_crcs", bytes(len(crcs))))
        add("record_crcs: 8 bytes per record", setter("record_crcs", crcs + crcs))

    ranges = dict(base.index[FIELDS["provider_ranges"]])
    s0, e0 = ranges[p0]
    for what, new_ranges in [
        ("start > end", {**ranges, p0: [e0, s0]}),
        ("end 2**40", {**ranges, p0: [s0, 2**40]}),
        ("end 2**64-1", {**ranges, p0: [2**64 - 1, 2**64 - 1]}),
        ("start -1", {**ranges, p0: [-1, e0]}),
        ("start -2**63", {**ranges, p0: [-(2**63), e0]}),
        ("the whole file", {**ranges, p0: [0, n]}),
        ("the last provider's end n + 1", {**ranges, plast: [ranges[plast][0], n + 1]}),
        ("empty", {**ranges, p0: [0, 0]}),
        ("missing", {k: v for k, v in ranges.items() if k != p0}),
        ("an unknown provider over the first models", {**ranges, "zz": [0, 2]}),
        ("an unknown provider, empty range", {**ranges, "zz": [n, n]}),
        ("three numbers", {**ranges, p0: [s0, e0, 1]}),
        ("one number", {**ranges, p0: [s0]}),
        ("a string", {**ranges, p0: "0..3"}),
        ("floats", {**ranges, p0: [0.0, 1.5]}),
        ("every range shifted by one", {k: [a + 1, b + 1] for k, (a, b) in ranges.items()}),
        ("the first provider's range one model short", {**ranges, p0: [s0, e0 - 1]}),
        ("the first provider's range one model into the next", {**ranges, p0: [s0, e0 + 1]}),
    ]:
        add(f"provider_ranges: {p0 if p0 in what else 'ranges'}: {what}", setter("provider_ranges", new_ranges))

    bitsets = dict(base.index[FIELDS["bitsets"]])
    for what, new_bits in [
        ("'allowed' one byte per model", {**bitsets, "allowed": b"\xff" * n}),
        ("'allowed' one byte too long", {**bitsets, "allowed": b"\xff" * (width + 1)}),
        ("'allowed' every bit set, also past the last model", {**bitsets, "allowed": b"\xff" * width}),
        ("'tools' every bit set, also past the last model", {**bitsets, "tools": b"\xff" * width}),
        ("'deprecated' every bit set", {**bitsets, "deprecated": b"\xff" * width}),
        ("'allowed' empty", {**bitsets, "allowed": b""}),
        ("'allowed' missing", {k: v for k, v in bitsets.items() if k != "allowed"}),
        ("empty", {}),
        ("'allowed' a string", {**bitsets, "allowed": "\xff" * width}),
        ("'allowed' an int", {**bitsets, "allowed": 2**64 - 1}),
        ("'allowed' a list", {**bitsets, "allowed": [1, 2]}),
        ("'allowed' 1 MB", {**bitsets, "allowed": b"\xff" * 2**20}),
        ("an unknown bitset, every bit set", {**bitsets, "zz-feature": b"\xff" * width}),
        ("a mode bitset with every bit set, also past the last model", {**bitsets, "mode:chat": b"\xff" * width}),
        ("a list", list(bitsets.values())),
    ]:
        add(f"bitsets: {what}", setter("bitsets", new_bits))

    columns = dict(base.index[FIELDS["columns"]])
    first = next(iter(columns))
    for what, new_columns in [
        ("'context' one short", {**columns, "context": columns["context"][:-1]}),
        ("'context' one long", {**columns, "context": [*columns["context"], 1]}),
        ("'context' empty", {**columns, "context": []}),
        ("'context' missing", {k: v for k, v in columns.items() if k != "context"}),
        ("all missing", {}),
        ("'context' all strings", {**columns, "context": ["lots"] * n}),
        ("'context' all booleans", {**columns, "context": [True] * n}),
        ("'context' all floats", {**columns, "context": [1e300] * n}),
        ("'context' all 2**64-1", {**columns, "context": [2**64 - 1] * n}),
        ("'context' all -2**63", {**columns, "context": [-(2**63)] * n}),
        ("'output' all lists", {**columns, "output": [[1]] * n}),
        ("'input_cost' all nan", {**columns, "input_cost": [float("nan")] * n}),
        ("'input_cost' all strings", {**columns, "input_cost": ["free"] * n}),
        ("'output_cost' all -inf", {**columns, "output_cost": [float("-inf")] * n}),
        ("'release_date' all ints", {**columns, "release_date": [2024] * n}),
        ("'release_date' all garbage strings", {**columns, "release_date": ["20x4-1-"] * n}),
        ("'family' all maps", {**columns, "family": [{"a": 1}] * n}),
        ("'family' all byte strings", {**columns, "family": [b"x"] * n}),
        ("'base_id' all ints", {**columns, "base_id": [7] * n}),
        ("'family' a list nested 900 deep first", {**columns, "family": [nested_list(900)] + [None] * (n - 1)}),
        ("'family' a list nested 990 deep first", {**columns, "family": [nested_list(990)] + [None] * (n - 1)}),
        ("'context' a list nested 990 deep first", {**columns, "context": [nested_list(990)] + [None] * (n - 1)}),
        (f"{first!r} a string", {**columns, first: "x" * n}),
        ("an unknown column, one value", {**columns, "zz": [1]}),
        ("an unknown column, one value per model", {**columns, "zz": [{"x": 1}] * n}),
        ("a list", list(columns.values())),
    ]:
        add(f"columns: {what}", setter("columns", new_columns))

    rng = rng_for("specs")
    shuffled = specs[:]
    rng.shuffle(shuffled)
    renamed = specs[:]
    for i in range(0, n - 1, 2):
        renamed[i], renamed[i + 1] = renamed[i + 1], renamed[i]
    for what, new_specs in [
        ("shuffled (records not)", shuffled),
        ("reversed (records not)", specs[::-1]),
        ("neighbours swapped (records not)", renamed),
        ("the first twice", [specs[0], *specs[:-1]]),
        ("the second equal to the first", [specs[0], specs[0], *specs[2:]]),
        ("the last removed", specs[:-1]),
        ("one extra", [*specs, "zz:extra"]),
        ("empty", []),
        ("the first without a colon", ["nocolon", *specs[1:]]),
        ("the last without a colon", [*specs[:-1], "zz-nocolon"]),
        ("the first empty", ["", *specs[1:]]),
        ("the first ':'", [":", *specs[1:]]),
        ("the first renamed", [specs[0] + "-renamed", *specs[1:]]),
        ("the first an int", [7, *specs[1:]]),
        ("the first nil", [None, *specs[1:]]),
    ]:
        add(f"specs: {what}", setter("specs", new_specs), names=("nocolon", "zz-nocolon", specs[0] + "-renamed"))
    # A consistent file whose specs are out of provider order: records, record checksums, columns and bitsets
    # all moved with the specs (each record at its spec's place), provider ranges kept. Shuffled whole (the
    # ranges' ends no longer hold their provider), then with every range's first and last model kept in place.
    ends_kept = {i for a, b in base.index[FIELDS["provider_ranges"]].values() for i in (a, b - 1) if a < b}
    inner = [i for i in range(n) if i not in ends_kept]
    for what, pool in (("all shuffled", list(range(n))), ("shuffled but each provider's first and last", inner)):
        order = list(range(n))
        picked = pool[:]
        rng.shuffle(picked)
        for at, i in zip(pool, picked, strict=True):
            order[at] = i
        out.add(
            "index",
            f"specs: {what}; records, columns and bitsets moved with them",
            with_records(base, [base.records[i] for i in order], edit=_moved(order)),
        )
    # A consistent file with one odd spec in the middle of the first provider's range: the record says it too.
    middle = (ranges[p0][0] + ranges[p0][1]) // 2
    for odd in ("nocolon", "", ":", f"{p0}:", "zz:intruder", f"{p0}:a:b"):
        records = list(base.records)
        record = record_map(base, middle)
        record["spec"] = odd
        records[middle] = encode(record)

        def rename(ix: list[Any], odd: str = odd) -> None:
            ix[FIELDS["specs"]][middle] = odd

        out.add(
            "index",
            f"specs: spec {middle} ({specs[middle]}) and its record renamed {odd!r}",
            with_records(base, records, edit=rename),
            names=(odd, "intruder"),
        )

    aliases = dict(base.index[FIELDS["model_aliases"]])
    names = dict(base.index[FIELDS["names"]]) if "names" in FIELDS else {}
    extra = ("zz-name", f"{p0}:zz-alias", specs[0].split(":", 1)[1])
    for what, field, new_value in [
        ("names: a name pointing at an unknown spec", "names", {**names, "zz-name": "zz:nothing"}),
        ("names: a name pointing at a spec without colon", "names", {**names, "zz-name": "nocolon"}),
        ("names: a name pointing at ''", "names", {**names, "zz-name": ""}),
        ("names: a name pointing at another model", "names", {**names, "zz-name": specs[1]}),
        ("names: the first spec pointing at the second", "names", {**names, specs[0]: specs[1]}),
        ("names: the first spec's id pointing at the second", "names", {**names, extra[2]: specs[1]}),
        ("names: every name pointing at an unknown spec", "names", {k: "zz:nothing" for k in names}),
        ("names: a name pointing at an int", "names", {**names, "zz-name": 5}),
        ("model_aliases: an alias of an unknown spec", "model_aliases", {**aliases, extra[1]: "zz:nothing"}),
        ("model_aliases: an alias of another model", "model_aliases", {**aliases, extra[1]: specs[1]}),
        ("model_aliases: the first spec an alias of the second", "model_aliases", {**aliases, specs[0]: specs[1]}),
        ("model_aliases: an alias of ''", "model_aliases", {**aliases, extra[1]: ""}),
        ("provider_aliases: an alias of an unknown provider", "provider_aliases", {"zz": "nowhere"}),
        ("provider_aliases: the first provider an alias of another", "provider_aliases", {p0: plast}),
        ("provider_aliases: empty", "provider_aliases", {}),
        ("providers: empty", "providers", []),
        ("providers: the first twice", "providers", [base.index[FIELDS["providers"]][0]] * 2),
        ("providers: an id that is an int", "providers", [{"id": 5}]),
        ("providers: a map without id", "providers", [{"name": "x"}]),
        ("denied: the first spec", "denied", {specs[0]: "deny everything"}),
        ("denied: an unknown spec", "denied", {"zz:nothing": "deny"}),
        ("denied: a rule that is an int", "denied", {specs[0]: 5}),
        ("excluded: the first spec", "excluded", {specs[0]: "exclude 'x' (x.toml)"}),
        ("excluded: an unknown spec, asked for", "excluded", {"zz:nothing": "exclude"}),
        ("excluded: a spec of a known provider, asked for", "excluded", {f"{p0}:zz-alias": "exclude"}),
    ]:
        if field in FIELDS:
            add(what, setter(field, new_value), names=(*extra, "zz:nothing"))


def _moved(order: list[int]) -> Callable[[list[Any]], None]:
    """An index edit putting model `order[j]` at ordinal j in the specs, columns and bitsets."""

    def edit(ix: list[Any]) -> None:
        ix[FIELDS["specs"]] = [ix[FIELDS["specs"]][i] for i in order]
        ix[FIELDS["columns"]] = {k: [v[i] for i in order] for k, v in ix[FIELDS["columns"]].items()}
        bits = {}
        for k, raw in ix[FIELDS["bitsets"]].items():
            old = int.from_bytes(raw, "little")
            new = sum(1 << j for j, i in enumerate(order) if old >> i & 1)
            bits[k] = new.to_bytes(len(raw), "little")
        ix[FIELDS["bitsets"]] = bits

    return edit


def records(base: Base, out: Cases) -> None:
    """6. Records that decode to impossible models or to another model than the index names at their place."""
    n = base.n
    targets = (0, n - 1, rng_for("record-target").randrange(1, n - 1))

    def change(i: int, edit: Callable[[dict[str, Any]], None]) -> bytes:
        record = record_map(base, i)
        edit(record)
        return encode(record)

    def put(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
        def edit(record: dict[str, Any]) -> None:
            record[key] = value

        return edit

    def drop(key: str) -> Callable[[dict[str, Any]], None]:
        def edit(record: dict[str, Any]) -> None:
            record.pop(key, None)

        return edit

    mutations: list[tuple[str, Callable[[int], bytes]]] = [
        ("status 'zombie'", lambda i: change(i, put("status", "zombie"))),
        ("negative limits", lambda i: change(i, put("limits", {"context": -1, "output": -(2**63)}))),
        ("limits a string", lambda i: change(i, put("limits", "big"))),
        ("limits 2**64-1", lambda i: change(i, put("limits", {"context": 2**64 - 1, "input": 2**64 - 1}))),
        ("cost.input a string", lambda i: change(i, put("cost", {"input": "free"}))),
        ("negative and nan prices", lambda i: change(i, put("cost", {"input": -3.0, "output": float("nan")}))),
        ("a cost tier whose 'above' is a string", lambda i: change(i, put("cost", {"tiers": [{"above": "x"}]}))),
        ("a cost tier with no 'above'", lambda i: change(i, put("cost", {"input": 1.0, "tiers": [{"input": 2.0}]}))),
        ("capabilities a list", lambda i: change(i, put("capabilities", []))),
        ("capabilities.tools a string", lambda i: change(i, put("capabilities", {"tools": "yes"}))),
        ("an unknown modality", lambda i: change(i, put("modalities", {"input": ["telepathy"], "output": [7]}))),
        ("no spec", lambda i: change(i, drop("spec"))),
        ("spec an int", lambda i: change(i, put("spec", 5))),
        ("id nil", lambda i: change(i, put("id", None))),
        ("release_date an int", lambda i: change(i, put("release_date", 20240101))),
        ("aliases a string", lambda i: change(i, put("aliases", "abc"))),
        ("extra nested 10,000 deep", lambda i: change(i, put("extra", {"x": nested_list(10_000)}))),
        ("extra nested 990 deep", lambda i: change(i, put("extra", {"x": nested_list(990)}))),
        ("an unknown field (ignored)", lambda i: change(i, put("zz_field", {"a": [1, 2]}))),
        ("the map as an array of its values", lambda i: encode(list(record_map(base, i).values()))),
        ("empty", lambda i: b""),
        ("nil", lambda i: b"\xc0"),
        ("itself twice", lambda i: base.records[i] * 2),
        ("itself and a junk byte", lambda i: base.records[i] + b"\x00"),
    ]
    for what, make in mutations:
        for i in targets if what in ("status 'zombie'", "no spec", "empty", "itself twice") else targets[:2]:
            records = list(base.records)
            records[i] = make(i)
            out.add("records", f"record {i} ({base.specs[i]}): {what}", with_records(base, records))
    swaps = [(0, 1), (n - 1, 0), (n - 2, n - 1)]
    rng = rng_for("record-swaps")
    swaps += [(rng.randrange(n), rng.randrange(n)) for _ in range(3)]
    for i, j in swaps:
        if i == j:
            j = (i + 1) % n
        records = list(base.records)
        records[i], records[j] = records[j], records[i]
        out.add("records", f"records {i} and {j} swapped, offsets and checksums fixed", with_records(base, records))
    for i, j in swaps[:3]:
        records = list(base.records)
        records[i] = base.records[j]
        out.add("records", f"record {i} a copy of record {j}, offsets and checksums fixed", with_records(base, records))
    rotated = [*base.records[1:], base.records[0]]
    out.add("records", "every record moved one place down, offsets and checksums fixed", with_records(base, rotated))
    renamed = change(0, put("spec", base.specs[1]))
    out.add("records", "record 0 claims record 1's spec", with_records(base, [renamed, *base.records[1:]]))


def provenance(base: Base, out: Cases) -> None:
    """7. A provenance table that disagrees with the index or holds the wrong types; a report that is garbage."""
    table: list[Any] = msgspec.msgpack.decode(base.section(fmt.PROVENANCE))
    sources, models = PROVENANCE_FIELDS.get("sources"), PROVENANCE_FIELDS.get("models")
    providers = PROVENANCE_FIELDS.get("providers")

    def add(what: str, edit: Callable[[list[Any]], None], refuse: tuple[str, ...] = ()) -> None:
        copy: list[Any] = msgspec.msgpack.decode(base.section(fmt.PROVENANCE))
        edit(copy)
        out.add("provenance", what, replace(base, {fmt.PROVENANCE: encode(copy)}), refuse=refuse)

    # "A provenance section ... naming a source it does not have, is refused when first read (`explain`)."
    unknown = ("explain(first)", "explain(last)")

    def every_source(value: Any) -> Callable[[list[Any]], None]:
        def edit(t: list[Any]) -> None:
            assert models is not None
            t[models] = [{path: [value, *rest] for path, (_, *rest) in m.items()} for m in t[models]]

        return edit

    def setter(position: int | None, value: Any) -> Callable[[list[Any]], None]:
        def edit(t: list[Any]) -> None:
            assert position is not None
            t[position] = value

        return edit

    if models is not None:
        n = len(table[models])
        add("models: one fewer than specs", setter(models, table[models][:-1]))
        add("models: one more than specs", setter(models, [*table[models], {}]))
        add("models: empty", setter(models, []))
        add("models: each a list", setter(models, [[]] * n))
        add("models: each nil", setter(models, [None] * n))
        for number in (99, -1, -(2**63), 2**40, 2**64 - 1):
            add(f"models: every field's source {number}", every_source(number), refuse=unknown)
        for wrong in ("0", None, 1.0):
            add(f"models: every field's source {wrong!r}", every_source(wrong))
        add("models: a field stored as [0]", setter(models, [{"x": [0]}] * n))
        add("models: a field stored as [0, false]", setter(models, [{"x": [0, False]}] * n))
        add("models: a field stored as a string", setter(models, [{"x": "0"}] * n))
        add("models: a field replacing source 99", setter(models, [{"x": [0, False, [[99, 1]]]}] * n), unknown)
        add("models: a field replacing source -1", setter(models, [{"x": [0, False, [[-1, 1]]]}] * n), unknown)
        add(
            "models: a replaced value nested 10,000 deep",
            setter(models, [{"x": [0, False, [[0, nested_list(10_000)]]]}] * n),
        )
        add(
            "models: a replaced value nested 990 deep", setter(models, [{"x": [0, False, [[0, nested_list(990)]]]}] * n)
        )
        add("models: a replacement that is one number", setter(models, [{"x": [0, False, [[0]]]}] * n))
    if sources is not None:
        add("sources: empty", setter(sources, []))
        add("sources: each an int", setter(sources, [1] * len(table[sources])))
        add("sources: each without a name", setter(sources, [{"kind": "x"}] * len(table[sources])))
    if providers is not None:
        for value in (99, -1):
            add(
                f"providers: every provider's field source {value}",
                setter(providers, {k: {"name": [value, False, []]} for k in table[providers]}),
                ("provider_provenance",),
            )
        add("providers: a list", setter(providers, []))
        add("providers: each a string", setter(providers, {k: "x" for k in table[providers]}))
    add("table: one field more (ignored)", lambda t: t.append({"zz": 1}))
    add("table: one field fewer", lambda t: t.pop())
    report: dict[str, Any] = msgspec.msgpack.decode(base.section(fmt.REPORT))
    for what, new_report in [
        ("models a string", {**report, "models": "many"}),
        ("sources an int", {**report, "sources": 5}),
        ("issues a list of ints", {**report, "issues": [1, 2]}),
        ("stage_ms nested 10,000 deep", {**report, "stage_ms": {"x": nested_list(10_000)}}),
        ("an unknown field (ignored)", {**report, "zz": [1]}),
        ("a list", list(report.values())),
    ]:
        out.add("provenance", f"report: {what}", replace(base, {fmt.REPORT: encode(new_report)}))


def controls(base: Base, out: Cases) -> None:
    """8. Valid files the reader must open and answer from: the base itself, a newer minor version, an unknown
    section, trailing bytes, sections in another order or with gaps, an index with a newer field, an older one."""

    def header_with(**changes: int) -> list[Any]:
        fields = list(base.header)
        for name, value in changes.items():
            fields[{"minor": 2, "flags": 7}[name]] = value
        return fields

    sections = list(base.sections)
    add = out.add
    add("control", "the base file", base.data, control=True)
    add("control", "minor version + 1", assemble(header_with(minor=fmt.FORMAT_MINOR + 1), sections), control=True)
    add("control", "minor version 65535", assemble(header_with(minor=65535), sections), control=True)
    add(
        "control",
        "an unknown section appended",
        assemble(base.header, [*sections, (99, b"\x93\x01\x02\x03")]),
        control=True,
    )
    add("control", "an unknown empty section first", assemble(base.header, [(2**32 - 1, b""), *sections]), control=True)
    add(
        "control",
        "trailing bytes after the last section",
        assemble(base.header, sections, trailing=b"\x00junk" * 100),
        control=True,
    )
    add("control", "sections in reverse order", assemble(base.header, sections[::-1]), control=True)
    add("control", "gaps between sections", assemble(base.header, sections, gap=b"\xc1" * 13), control=True)
    add("control", "the superseded flag set", assemble(header_with(flags=fmt.SUPERSEDED), sections), control=True)
    ix = base.ix()
    ix.append({"zz-newer": [1, 2, 3]})
    add(
        "control",
        "the index with one more field (minor + 1)",
        assemble(
            header_with(minor=fmt.FORMAT_MINOR + 1), [(s, encode(ix) if s == fmt.INDEX else b) for s, b in sections]
        ),
        control=True,
    )
    n_required = len(fmt.Index.__struct_fields__) - len(fmt.Index.__struct_defaults__)
    optional = ", ".join(fmt.Index.__struct_fields__[n_required:])
    old = encode(base.ix()[:n_required])
    add(
        "control",
        f"the index without its optional fields ({optional}), minor 0",
        assemble(header_with(minor=0), [(s, old if s == fmt.INDEX else b) for s, b in sections if s != fmt.LOOKUP]),
        control=True,
    )


def asked(base: Base) -> list[str]:
    """The specs every case looks up (not the one the profile excludes: the profile family names it)."""
    specs = list(base.specs)
    rng = rng_for("asked")
    ask = [specs[0], specs[1], *rng.sample(specs[3:-1], 3), specs[len(specs) // 2], specs[-1]]
    assert base.excluded not in ask
    return ask


def with_specs(base: Base, changes: dict[int, str]) -> bytes:
    """A file as a writer would make it with some specs renamed: the index's specs, the records' own specs and
    the lookup section all say the new names, every offset and checksum recomputed."""
    records = list(base.records)
    for i, spec in changes.items():
        record = record_map(base, i)
        record["spec"] = spec
        records[i] = encode(record)
    specs = [changes.get(i, s) for i, s in enumerate(base.specs)]

    def rename(ix: list[Any]) -> None:
        ix[FIELDS["specs"]] = specs

    data = with_records(base, records, edit=rename)
    header, sections = split(data)
    ix: list[Any] = msgspec.msgpack.decode(dict(sections)[fmt.INDEX])
    lookup = fmt.lookup_section(specs, ix[FIELDS["offsets"]], ix[FIELDS["record_crcs"]])
    return assemble(header, [(sid, lookup if sid == fmt.LOOKUP else body) for sid, body in sections])


class Lookup:
    """The base file's LOOKUP section taken apart (`contract.lookup_layout`), to edit and put back."""

    def __init__(self, base: Base) -> None:
        self.base = base
        self.data = base.section(fmt.LOOKUP)
        self.n, self.slots = fmt.LOOKUP_HEAD.unpack_from(self.data)
        self.offsets, self.crcs, self.starts, self.table, self.text = fmt.lookup_layout(self.n, self.slots)

    def array(self, part: str) -> list[int]:
        """`offsets`, `crcs`, `starts` or `table`, as integers."""
        at = {"offsets": self.offsets, "crcs": self.crcs, "starts": self.starts, "table": self.table}[part]
        end = {"offsets": self.crcs, "crcs": self.starts, "starts": self.table, "table": self.text}[part]
        return unpacked(self.data[at:end], "Q" if part == "offsets" else "I")

    def home(self, spec: str) -> int:
        return fmt.spec_hash(spec.encode()) & (self.slots - 1)

    def file(self, **parts: list[int] | bytes) -> bytes:
        """The base file with these parts of its LOOKUP section replaced (`head`, `text` as bytes)."""
        pieces = {
            "head": self.data[: self.offsets],
            "offsets": self.data[self.offsets : self.crcs],
            "crcs": self.data[self.crcs : self.starts],
            "starts": self.data[self.starts : self.table],
            "table": self.data[self.table : self.text],
            "text": self.data[self.text :],
        }
        for name, value in parts.items():
            pieces[name] = value if isinstance(value, bytes) else packed(value, "Q" if name == "offsets" else "I")
        return replace(self.base, {fmt.LOOKUP: b"".join(pieces.values())})


def lookup(base: Base, out: Cases) -> None:
    """9. The LOOKUP section: odd spec strings a writer could have put everywhere (index, records and lookup
    agreeing), spec text, record offsets and checksums that disagree with the index, a corrupt hash table. Every
    call on its own catalog; `verify()` must refuse each (but one harmless table); a spec the file holds is
    answered or the file refused, never not found."""
    n, specs, ask = base.n, list(base.specs), asked(base)
    p0 = specs[0].split(":", 1)[0]
    look = Lookup(base)

    def add(what: str, data: bytes, gone: tuple[str, ...] = (), refuse: tuple[str, ...] = ("verify",)) -> None:
        present = tuple(s for s in ask if s not in gone)
        out.add("lookup", what, data, refuse=refuse, present=present, fresh=True)

    # Odd specs, sorted where they stand: the first (sorting before every other) or the last.
    bare = ("get('no-such-model-zz')", "resolve", "verify")
    for at, odd in [(0, ""), (0, ":"), (0, ":x"), (0, p0), (0, f"{p0}:"), (n - 1, "zz"), (n - 1, "zz:")]:
        add(f"spec {at} ({specs[at]}) renamed {odd!r} everywhere", with_specs(base, {at: odd}), (specs[at],), bare)
    add("specs 0 and 1 both renamed '' everywhere", with_specs(base, {0: "", 1: ""}), (specs[0], specs[1]), bare)

    # Spec text that is not the index's: same length, other bytes; not UTF-8; two specs' text swapped.
    text = bytearray(look.data[look.text :])
    starts = look.array("starts")
    upper = bytearray(text)
    upper[0] = ord(chr(upper[0]).upper())
    add("spec 0's text upper-cased in the lookup section only", look.file(text=bytes(upper)), (specs[0],))
    broken = bytearray(text)
    broken[starts[1] - 1] = 0xFF
    add("spec 0's last byte 0xff (not UTF-8) in the lookup section only", look.file(text=bytes(broken)), (specs[0],))
    swapped = fmt.lookup_section(
        [specs[1], specs[0], *specs[2:]],
        base.index[FIELDS["offsets"]],
        base.index[FIELDS["record_crcs"]],
    )
    add("specs 0 and 1 swapped in the lookup section only", replace(base, {fmt.LOOKUP: swapped}), specs[:2])
    for what, new in [
        ("one shifted by one", [*starts[:3], starts[3] + 1, *starts[4:]]),
        ("two decreasing", [*starts[:3], starts[4], starts[3], *starts[5:]]),
        ("a middle one past the text", [*starts[: n // 2], 2**32 - 1, *starts[n // 2 + 1 :]]),
        ("all zero but the last", [0] * n + [starts[-1]]),
    ]:
        add(f"spec starts: {what}", look.file(starts=new), tuple(specs))

    # Record offsets and checksums that are not the index's.
    offsets, crcs = look.array("offsets"), look.array("crcs")
    for what, parts in [
        ("offsets: 1 and 2 swapped", {"offsets": [offsets[0], offsets[2], offsets[1], *offsets[3:]]}),
        ("offsets: a middle one past the records", {"offsets": [*offsets[: n // 2], 2**63, *offsets[n // 2 + 1 :]]}),
        ("offsets: all zero but the last", {"offsets": [0] * n + [offsets[-1]]}),
        ("offsets: every record one later", {"offsets": [0, *offsets[:-1]]}),
        ("record checksums: all zero", {"crcs": [0] * n}),
        ("record checksums: 0 and 1 swapped", {"crcs": [crcs[1], crcs[0], *crcs[2:]]}),
        ("offsets and checksums: records 0 and 1 swapped", {"offsets": [offsets[1] - offsets[0], *offsets[1:]]}),
    ]:
        add(f"lookup {what}", look.file(**parts), tuple(specs))

    # A corrupt hash table. A spec whose slot is emptied is still in the file: refused, never "not found".
    table = look.array("table")
    for spec in (specs[0], ask[len(ask) // 2], specs[-1]):
        emptied = [0 if v == specs.index(spec) + 1 else v for v in table]
        add(f"hash table: {spec}'s slot emptied", look.file(table=emptied), refuse=("verify", f"get({spec!r})"))
    at_home = [i for i, v in enumerate(table) if v and look.home(specs[v - 1]) == i and not table[i - 1]]
    a, b = at_home[0], at_home[len(at_home) // 2]
    moved = list(table)
    moved[a], moved[b] = moved[b], moved[a]
    add(f"hash table: two specs' slots ({a}, {b}) swapped", look.file(table=moved))
    add("hash table: all empty", look.file(table=[0] * look.slots))
    add("hash table: every slot ordinal 0", look.file(table=[1] * look.slots))
    add("hash table: every slot 2**32-1", look.file(table=[2**32 - 1] * look.slots))
    add("hash table: every slot past the last model", look.file(table=[n + 1] * look.slots))
    full = [v or n + 1 + i for i, v in enumerate(table)]
    add("hash table: its empty slots past the last model (no empty slot left)", look.file(table=full), refuse=())
    for what, head in [
        ("one model fewer", fmt.LOOKUP_HEAD.pack(n - 1, look.slots)),
        ("one model more", fmt.LOOKUP_HEAD.pack(n + 1, look.slots)),
        ("half the slots", fmt.LOOKUP_HEAD.pack(n, look.slots // 2)),
        ("twice the slots", fmt.LOOKUP_HEAD.pack(n, look.slots * 2)),
        ("slots not a power of two", fmt.LOOKUP_HEAD.pack(n, look.slots - 1)),
    ]:
        add(f"lookup head: {what}", look.file(head=head), tuple(specs), refuse=("open",))


def profile_parts(base: Base, out: Cases) -> None:
    """10. The profile part of the index, read as that profile: names, bitsets holding the models it hides or
    too long, exclusions and overrides naming unknown specs, override records and column values of the wrong
    kind. Every call on its own catalog; a spec the file holds and the profile does not exclude is answered or
    the file refused, never not found."""
    n, specs, ask = base.n, list(base.specs), asked(base)
    width = (n + 7) // 8
    overridden, hidden = specs[1], base.excluded
    ordinal = specs.index(hidden)

    def add(what: str, edit: Callable[[dict[str, Any]], None], refuse: tuple[str, ...] = ("open", "verify")) -> None:
        def change(ix: list[Any]) -> None:
            edit(ix[FIELDS["profiles"]])

        out.add(
            "profile", what, with_index(base, change), refuse=refuse, present=tuple(ask), profile=PROFILE, fresh=True
        )

    def part(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
        def edit(profiles: dict[str, Any]) -> None:
            profiles[PROFILE][key] = value

        return edit

    mine = base.index[FIELDS["profiles"]][PROFILE]
    out.add(
        "profile",
        "the base file, read as its profile",
        base.data,
        control=True,
        present=tuple(ask),
        names=(hidden,),
        profile=PROFILE,
        fresh=True,
    )

    def renamed(profiles: dict[str, Any]) -> None:
        profiles["zz"] = profiles.pop(PROFILE)

    out.add(
        "profile",
        "the profile renamed (not found)",
        with_index(base, lambda ix: renamed(ix[FIELDS["profiles"]])),
        refuse=("open",),
        profile=PROFILE,
        fresh=True,
    )

    def more(profiles: dict[str, Any]) -> None:
        profiles.update({"": profiles[PROFILE], "zz": {}, "zz-int": 5})

    add("two more profiles, one not a map", more)
    bitsets = mine["bitsets"]
    with_hidden = {
        k: (int.from_bytes(v, "little") | 1 << ordinal).to_bytes(width, "little") for k, v in bitsets.items()
    }
    for what, value in [
        ("'allowed' holding the model the profile excludes", {**bitsets, "allowed": with_hidden["allowed"]}),
        ("'tools' holding the model the profile excludes", {**bitsets, "tools": with_hidden["tools"]}),
        ("every bitset holding the model the profile excludes", with_hidden),
        ("'allowed' one byte too long", {**bitsets, "allowed": b"\xff" * (width + 1)}),
        ("'allowed' bits past the last model", {**bitsets, "allowed": b"\xff" * width}),
        ("'allowed' a string", {**bitsets, "allowed": "x"}),
        ("a list", list(bitsets.values())),
    ]:
        add(f"bitsets: {what}", part("bitsets", value))
    add("bitsets: empty (nothing allowed)", part("bitsets", {}), refuse=())
    for what, value in [
        ("an unknown spec", {**mine["excluded"], "zz:nothing": "x"}),
        ("''", {**mine["excluded"], "": "x"}),
        ("every spec (the bitsets still hold them)", dict.fromkeys(specs, "x")),
        ("a reason that is an int", {hidden: 5}),
    ]:
        add(f"excluded: {what}", part("excluded", value))
    add("excluded: none (the bitsets still leave it out)", part("excluded", {}), refuse=())
    record = record_map(base, 1)
    for what, value, refuse in [
        ("for an unknown spec", {**mine["records"], "zz:nothing": base.records[0]}, ("open", "verify")),
        ("for ''", {**mine["records"], "": base.records[0]}, ("open", "verify")),
        ("not msgpack", {overridden: b"\xc1"}, ("verify", f"get({overridden!r})")),
        ("empty", {overridden: b""}, ("verify", f"get({overridden!r})")),
        ("another model's", {overridden: base.records[3]}, ("verify", f"get({overridden!r})")),
        ("holding spec ''", {overridden: encode({**record, "spec": ""})}, ("verify", f"get({overridden!r})")),
        ("limits a string", {overridden: encode({**record, "limits": "big"})}, ("verify", f"get({overridden!r})")),
        ("nested 10,000 deep", {overridden: bytes(nested_list(10_000))}, ("verify", f"get({overridden!r})")),
        ("a string, not bytes", {overridden: "x"}, ("open", "verify")),
        ("for the excluded spec (never read)", {**mine["records"], hidden: base.records[ordinal]}, ()),
    ]:
        add(f"records: {what}", part("records", value), refuse)
    for what, value in [
        ("'context' a string", {"context": {overridden: "lots"}}),
        ("'input_cost' a list", {"input_cost": {overridden: [1]}}),
        ("'family' an int", {"family": {overridden: 5}}),
        ("'context' for an unknown spec", {"context": {"zz:nothing": 5}}),
        ("'context' for ''", {"context": {"": 5}}),
        ("a list", [1, 2]),
        ("'context' a list", {"context": [5]}),
    ]:
        add(f"columns: {what}", part("columns", value))
    add("columns: an unknown column (ignored)", part("columns", {"zz": {overridden: "x"}}), refuse=())
    add("denied: an unknown spec (nothing to deny)", part("denied", {"zz:nothing": "x"}), refuse=())
    add("denied: a rule that is an int", part("denied", {overridden: 5}))
    add("definition: garbage (read by daemons only)", part("definition", {"allow": 5, "zz": [None]}), refuse=())
    for what, value in [("nil", None), ("an int", 7), ("a list", [1]), ("an empty map", {})]:

        def whole(profiles: dict[str, Any], value: Any = value) -> None:
            profiles[PROFILE] = value

        add(f"the profile replaced by {what}", whole, refuse=("open",))


FAMILIES = (flips, truncations, table, values, index_parts, records, provenance, controls, lookup, profile_parts)


# -- exercising the files, in child processes ----------------------------------------------------------------

CHILD = r"""
import faulthandler, inspect, json, math, resource, sys, traceback

limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
faulthandler.enable()
import llmdb
from llmdb import LLMDBError

case_seconds = int(sys.argv[3])
kwargs = {"follow": False} if "follow" in inspect.signature(llmdb.Catalog).parameters else {}


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def run(case):
    outcomes, failures = {}, []
    state = {"snap": None}

    def fail(op, kind, message, trace=""):
        failures.append({"op": op, "kind": kind, "message": message[:600], "trace": trace})

    def op(name, fn):
        try:
            result = fn()
        except LLMDBError as exc:
            outcomes[name] = type(exc).__name__
            return None
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            outcomes[name] = "FAIL"
            frames = traceback.format_tb(exc.__traceback__)[-4:]
            fail(name, type(exc).__module__ + "." + type(exc).__qualname__, repr(exc)[:600], "".join(frames))
            return None
        outcomes[name] = "ok"
        return result

    def listed(spec):
        snap = state["snap"]
        try:
            return isinstance(spec, str) and snap.ordinal(spec) is not None
        except LLMDBError:
            return True  # the file is refused: what was answered must still be the model asked for
        except BaseException as exc:
            fail("check", "ordinal() raised " + type(exc).__name__, repr(exc)[:300])
            return True

    def check(name, model, asked=None):
        if model is None:
            return
        if not isinstance(model, llmdb.Model):
            fail(name, "not a Model", repr(model)[:300])
            return
        if asked is not None and listed(asked) and model.spec != asked:
            fail(name, "wrong model", f"asked {asked!r}, got {model.spec!r}")
        elif not listed(model.spec):
            fail(name, "model not in the index", f"got {model.spec!r}")

    def every(models):
        # `models()` may answer lazily (a sequence decoding each record when read): read it all, twice.
        found = list(models)
        if len(models) != len(found) or (found and models[-1] is not found[-1] and models[-1] != found[-1]):
            fail("models", "inconsistent sequence", f"len {len(models)}, iterated {len(found)}")
        return found

    def canonical(provider):
        try:
            return state["snap"].provider_alias_map.get(provider, provider)
        except BaseException:
            return provider

    def check_all(name, models, provider=None):
        for m in models or ():
            check(name, m)
            if provider is not None and isinstance(m, llmdb.Model) and not m.spec.startswith(canonical(provider) + ":"):
                fail(name, "wrong model (another provider's)", f"models({provider!r}) gave {m.spec!r}")
                break

    options = {**kwargs, **({"profile": case["profile"]} if case["profile"] is not None else {})}
    specs, p = case["ask"], case["provider"]
    first, last = specs[0], specs[-1]
    steps = []

    def step(fn):
        steps.append(fn)
        return fn

    for spec in [*specs, *case["names"]]:
        step(lambda cat, spec=spec: check(f"get({spec!r})", op(f"get({spec!r})", lambda: cat.get(spec)), spec))
    step(lambda cat: check("find", op("find", lambda: cat.find(first)), first))
    step(lambda cat: check("resolve", op("resolve", lambda: cat.resolve(first.split(":", 1)[-1], scope=p))))
    step(lambda cat: check_all("models()", op("models()", lambda: every(cat.models()))))
    step(lambda cat: check_all(
        "models(tools)", op("models(tools)", lambda: every(cat.models(require=["tools"], forbid=["reasoning"])))
    ))
    step(lambda cat: check_all(
        "models(provider)", op("models(provider)", lambda: every(cat.models(p, include_deprecated=True))), p
    ))
    step(lambda cat: check_all(
        "models(context)", op("models(context)", lambda: every(cat.models(min_context=1000, order_by="cost")))
    ))
    step(lambda cat: check_all(
        "models(image)", op("models(image)", lambda: every(cat.models(input="image", order_by="release_date")))
    ))
    step(lambda cat: check_all(
        "models(chat)", op("models(chat)", lambda: every(cat.models(mode="chat", order_by="context")))
    ))
    step(lambda cat: check_all(
        "models(cost)",
        op("models(cost)", lambda: every(cat.models(max_input_cost=5.0, max_output_cost=50.0, min_output=1))),
    ))
    for name, kw in (("select(like)", {"require": ["tools"], "like": first}), ("select(prefer)", {"prefer": [p]})):

        @step
        def _(cat, name=name, kw=kw):
            chosen = op(name, lambda: cat.select(**kw))
            if chosen is not None:
                check(name, chosen.model)

    step(lambda cat: op("provider_provenance", lambda: state["snap"].provider_provenance(p)))
    step(lambda cat: op("explain(first)", lambda: cat.explain(first)))
    step(lambda cat: op("explain(last)", lambda: cat.explain(last)))
    step(lambda cat: op("info", cat.info))
    step(lambda cat: op("providers", cat.providers))
    step(lambda cat: op("provider", lambda: cat.provider(p)))
    step(lambda cat: op("supports", lambda: cat.supports(first, "tools", "input:image")))
    step(lambda cat: op("allowed", lambda: cat.allowed(last)))
    step(lambda cat: op("capabilities", lambda: cat.capabilities(last)))
    step(lambda cat: op("cost", lambda: cat.cost(first, input_tokens=1000, output_tokens=100)))
    step(lambda cat: op("resolve_name", lambda: cat.resolve_name("no-such-model-zz")))
    step(lambda cat: op("parse_spec", lambda: cat.parse_spec(p + "/x")))
    step(lambda cat: op("verify", lambda: state["snap"].verify()))

    def opened():
        cat = op("Catalog()", lambda: llmdb.Catalog(case["path"], **options))
        if cat is None:
            return None
        state["snap"] = op("open", lambda: cat.snapshot)
        if state["snap"] is None:
            op("close", cat.close)
            return None
        return cat

    if case["fresh"]:  # every call the first on its catalog: the first to read whatever part is bad
        for fn in steps:
            cat = opened()
            if cat is not None:
                fn(cat)
                op("close", cat.close)
    else:
        cat = opened()
        if cat is None:
            return outcomes, failures
        for fn in steps:
            fn(cat)
        op("close", cat.close)
    for spec in case["present"]:
        got = outcomes.get(f"get({spec!r})")
        if got not in (None, "ok", "SnapshotError"):
            fail(f"get({spec!r})", "a spec the file holds not found", f"{got}, where the file holds {spec!r}")
    return outcomes, failures


for line in open(sys.argv[1]):
    case = json.loads(line)
    emit({"start": case["id"]})
    faulthandler.dump_traceback_later(case_seconds, exit=True)
    try:
        outcomes, failures = run(case)
    except BaseException as exc:  # raised outside any exercised call (while checking an answer)
        frames = "".join(traceback.format_tb(exc.__traceback__)[-4:])
        failure = {"op": "checking", "kind": type(exc).__qualname__, "message": repr(exc), "trace": frames}
        outcomes, failures = {}, [failure]
    faulthandler.cancel_dump_traceback_later()
    emit({"id": case["id"], "outcomes": outcomes, "failures": failures})
"""


@dataclass
class Outcome:
    outcomes: dict[str, str]
    failures: list[dict[str, str]]


def _limits() -> None:  # in the child, before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_batch(jobs: list[dict[str, Any]], work: Path, number: int) -> dict[str, Outcome]:
    """Each job's outcome; a child that crashes or hangs on a file is restarted on the files after it."""
    results: dict[str, Outcome] = {}
    pending = jobs
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(llmdb.__file__).parents[1]), *sys.path])}
    env.pop("LLMDB_SNAPSHOT", None)
    attempt = 0
    while pending:
        attempt += 1
        listing = work / f"batch{number}.{attempt}.jsonl"
        listing.write_text("".join(json.dumps(job) + "\n" for job in pending))
        args = [sys.executable, "-c", CHILD, str(listing), str(MEMORY_LIMIT), str(CASE_SECONDS)]
        try:
            proc = subprocess.run(
                args, capture_output=True, text=True, timeout=BATCH_SECONDS, preexec_fn=_limits, env=env, check=False
            )
            stdout, stderr, code = proc.stdout, proc.stderr, proc.returncode
        except subprocess.TimeoutExpired as exc:
            stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
            stderr = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
            code = None
        started: list[str] = []
        for line in stdout.splitlines():
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "start" in message:
                started.append(message["start"])
            else:
                results[message["id"]] = Outcome(message["outcomes"], message["failures"])
        pending = [job for job in pending if job["id"] not in results]
        if not pending:
            break
        culprit = next((s for s in started if s not in results), pending[0]["id"])
        how = f"timed out after {BATCH_SECONDS} s" if code is None else f"exited with {code}"
        if code == 1 and "Timeout" in stderr:
            how = f"hung: no answer after {CASE_SECONDS} s"
        results[culprit] = Outcome(
            {"child": "FAIL"}, [{"op": "child", "kind": "crash or hang", "message": how, "trace": stderr[-3000:]}]
        )
        pending = [job for job in pending if job["id"] not in results]
    return results


def describe(case: Case, outcome: Outcome | None, path: Path) -> str:
    head = f"[{case.id}] {case.what} ({path})"
    if outcome is None:
        return f"{head}: no outcome"
    lines = [head]
    shown = 3
    for f in outcome.failures[:shown]:
        lines.append(f"    {f['op']}: {f['kind']}: {f['message']}")
        if f.get("trace"):
            lines.extend("      | " + t for t in f["trace"].rstrip().splitlines()[-12:])
    if len(outcome.failures) > shown:
        more = outcome.failures[shown:]
        lines.append(f"    ... and {len(more)} more: " + ", ".join(f"{f['op']} ({f['kind']})" for f in more))
    return "\n".join(lines)


CONTROL_OPS = ("open", "info", "explain(first)", "models()", "providers")


def case_path(work: Path, case: Case) -> Path:
    return work / f"{case.family}-{case.seed}.llmdb"


def exercise(base: Base, work: Path) -> tuple[list[Case], dict[str, Outcome], list[str]]:
    """Every case written under `work` and exercised: the cases, their outcomes by id, and the specs asked."""
    cases = Cases()
    for family in FAMILIES:
        family(base, cases)
    ids = [case.id for case in cases.all]
    assert len(set(ids)) == len(ids)
    specs = list(base.specs)
    ask = asked(base)
    index_names = dict(base.index[FIELDS["names"]]) if "names" in FIELDS else {}
    names = [
        *list(index_names)[:2],
        specs[0].split(":", 1)[1],
        specs[-1].replace(":", "/", 1),
        "no-such-model-zz",
    ]
    jobs = []
    for case in cases.all:
        path = case_path(work, case)
        path.write_bytes(case.data)
        jobs.append(
            {
                "id": case.id,
                "path": str(path),
                "ask": ask,
                "names": [*names, *case.names],
                "provider": specs[0].split(":", 1)[0],
                "present": list(case.present),
                "profile": case.profile,
                "fresh": case.fresh,
            }
        )
    batches = [jobs[i : i + BATCH_SIZE] for i in range(0, len(jobs), BATCH_SIZE)]
    results: dict[str, Outcome] = {}
    with ThreadPoolExecutor(WORKERS) as pool:
        for found in pool.map(lambda nb: run_batch(nb[1], work, nb[0]), enumerate(batches)):
            results.update(found)
    return cases.all, results, ask


def test_malformed_snapshots_are_refused_with_an_llmdb_error(base: Base, tmp_path: Path) -> None:
    cases, results, ask = exercise(base, tmp_path)
    problems: list[str] = []
    for case in cases:
        outcome = results.get(case.id)
        count = len(problems)
        if outcome is None or outcome.failures:
            problems.append(describe(case, outcome, case_path(tmp_path, case)))
        elif served := [op for op in case.refuse if outcome.outcomes.get(op) == "ok"]:
            where = case_path(tmp_path, case)
            problems.append(f"[{case.id}] {case.what} ({where}): answered where the file must be refused: {served}")
        elif case.control:
            refused = {op: outcome.outcomes.get(op) for op in (*CONTROL_OPS, *(f"get({s!r})" for s in ask))}
            bad = {op: got for op, got in refused.items() if got != "ok"}
            if bad:
                problems.append(
                    f"[{case.id}] {case.what} ({case_path(tmp_path, case)}): a valid file was not read: {bad}"
                )
        if len(problems) == count:
            case_path(tmp_path, case).unlink()  # kept only when it failed, to reproduce
    counts: dict[str, int] = {}
    for case in cases:
        counts[case.family] = counts.get(case.family, 0) + 1
    summary = ", ".join(f"{family} {count}" for family, count in counts.items())
    assert not problems, (
        f"{len(problems)} of {len(cases)} snapshot files ({summary}) broke the reader's contract"
        " (only LLMDBError, no hang, no crash, never a wrong model; valid files read):\n" + "\n".join(problems)
    )
