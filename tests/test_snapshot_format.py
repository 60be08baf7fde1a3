"""The snapshot file: every field round-trips; bad files are refused with a reason; a handle keeps serving."""

from __future__ import annotations

import os
import re
import struct
import warnings
import zlib
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from catalogs import API, make_catalog

import llmdb
from llmdb import contract as fmt
from llmdb._freshness import SnapshotHandle
from llmdb._snapshot import Snapshot
from llmdb.errors import SnapshotError
from llmdbd.engine import build
from llmdbd.engine.records import Records
from llmdbd.output.publish import publish, write_snapshot
from llmdbd.output.snapshot import encode_snapshot
from llmdbd.sources import modelsdev


def test_every_model_provider_and_section_round_trips(tmp_path: Path) -> None:
    catalog = build([modelsdev.load_path(API)])
    path = tmp_path / "c.llmdb"
    write_snapshot(catalog, path, epoch=7, built_at=1234.5)
    snap = Snapshot(path)
    assert (snap.epoch, snap.built_at, snap.content_hash) == (7, 1234.5, catalog.content_hash)
    assert snap.specs == list(catalog.models)
    assert all(snap.model(spec) == model for spec, model in catalog.models.items())
    assert snap.providers == list(catalog.providers.values())
    assert snap.provider_alias_map == catalog.provider_aliases()
    assert snap.provenance("openai:gpt-4o") == catalog.provenance("openai:gpt-4o")
    assert snap.provider_provenance("openai") == catalog.provider_provenance("openai")
    assert snap.report() == catalog.report


def test_bitsets_and_columns_agree_with_the_records(tmp_path: Path) -> None:
    catalog = build([modelsdev.load_path(API)])
    write_snapshot(catalog, tmp_path / "c.llmdb")
    snap = Snapshot(tmp_path / "c.llmdb")
    tools = set(snap.iter_ordinals(snap.bits("tools")))
    assert tools == {i for i, s in enumerate(snap.specs) if catalog.models[s].capabilities.tools.enabled}
    images = set(snap.iter_ordinals(snap.bits("input:image")))
    assert images == {i for i, s in enumerate(snap.specs) if "image" in catalog.models[s].modalities.input}
    assert snap.bits("status:deprecated").bit_count() == 121
    ordinal = snap.ordinal("openai:gpt-4o")
    assert ordinal is not None and snap.column("context")[ordinal] == 128000
    assert snap.bits("input:no-such-modality") == 0
    assert list(snap.specs_of_provider("openai")) == [s for s in snap.specs if s.startswith("openai:")]


def test_encoding_is_deterministic() -> None:
    catalog = make_catalog()
    assert encode_snapshot(catalog, epoch=3, built_at=9.0) == encode_snapshot(catalog, epoch=3, built_at=9.0)


def _good(tmp_path: Path) -> bytes:
    path = tmp_path / "good.llmdb"
    write_snapshot(make_catalog(), path)
    return path.read_bytes()


def _corrupt(data: bytes, kind: str) -> bytes:
    if kind == "magic":
        return b"NOTLLMDB" + data[8:]
    if kind == "major":
        return data[:8] + struct.pack("<H", fmt.FORMAT_MAJOR + 1) + data[10:]
    if kind == "schema":
        return data[:12] + struct.pack("<I", 99) + data[16:]
    if kind == "truncated":
        return data[: len(data) - 10]
    if kind == "header-only":
        return data[:100]
    if kind in ("bitflip", "bitflip-report"):
        wanted = fmt.RECORDS if kind == "bitflip" else fmt.REPORT
        flipped = bytearray(data)
        for i in range(struct.unpack_from("<I", data, 68)[0]):
            sid, _, offset, length = fmt.SECTION.unpack_from(data, fmt.HEADER_SIZE + i * fmt.SECTION.size)
            if sid == wanted:
                flipped[offset + length // 2] ^= 0x04
        return bytes(flipped)
    if kind == "header-bitflip":
        flipped = bytearray(data)
        flipped[20] ^= 0x01  # inside the epoch
        return bytes(flipped)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("magic", "bad magic"),
        ("major", r"format 2\.\d+ is not supported"),
        ("schema", "schema version 99"),
        ("truncated", "truncated"),
        ("header-only", "truncated"),
        ("header-bitflip", "header checksum mismatch"),
    ],
)
def test_bad_files_are_refused_with_a_reason(tmp_path: Path, kind: str, reason: str) -> None:
    bad = tmp_path / "bad.llmdb"
    bad.write_bytes(_corrupt(_good(tmp_path), kind))
    with pytest.raises(SnapshotError, match=reason) as info:
        Snapshot(bad)
    assert str(bad) in str(info.value)


def test_a_corrupt_report_section_is_refused_when_read(tmp_path: Path) -> None:
    bad = tmp_path / "bad.llmdb"
    bad.write_bytes(_corrupt(_good(tmp_path), "bitflip-report"))
    snap = Snapshot(bad)  # lookups only need the index and the records, verified at open
    assert snap.model("t:m") is not None
    with pytest.raises(SnapshotError, match="report section checksum mismatch"):
        snap.report()


def test_the_superseded_flag_is_outside_the_checksums(tmp_path: Path) -> None:
    path = tmp_path / "c.llmdb"
    write_snapshot(make_catalog(), path)
    with open(path, "r+b") as f:
        f.seek(fmt.FLAGS_OFFSET)
        f.write(struct.pack("<I", fmt.SUPERSEDED))
    assert Snapshot(path).superseded


@pytest.mark.parametrize("kind", ["magic", "truncated"])
def test_a_handle_refuses_a_bad_new_file_and_keeps_serving(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "catalog.llmdb"
    write_snapshot(make_catalog(price=1.0), path, epoch=1)
    handle = SnapshotHandle(path, follow=False)  # checked by this test only, not by the checker thread
    assert handle.current().model("t:m").cost.input == 1.0  # type: ignore[union-attr]
    good = tmp_path / "next.llmdb"
    write_snapshot(make_catalog(price=2.0), good, epoch=2)
    (tmp_path / "incoming").write_bytes(_corrupt(good.read_bytes(), kind))
    old = os.open(path, os.O_WRONLY)
    os.replace(tmp_path / "incoming", path)
    os.pwrite(old, struct.pack("<I", fmt.SUPERSEDED), fmt.FLAGS_OFFSET)
    os.close(old)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        snap = handle.check()
        assert snap.epoch == 1 and snap.model("t:m").cost.input == 1.0  # type: ignore[union-attr]
        handle.check()
    assert handle.last_error is not None and str(path) in str(handle.last_error)
    assert len(caught) == 1 and "still serving epoch 1" in str(caught[0].message)
    os.replace(good, path)  # then a good file arrives: picked up by the fallback check
    handle._next_check = 0.0
    assert handle.check().epoch == 2 and handle.last_error is None


def test_fork_after_open_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "c.llmdb"
    write_snapshot(make_catalog(price=3.0), path)
    handle = SnapshotHandle(path)
    assert handle.current().model("t:x0") is not None
    pid = os.fork()
    if pid == 0:  # child: the inherited mapping must answer, including records not decoded before the fork
        try:
            snap = handle.current()
            ok = snap.model("t:m").cost.input == 3.0 and snap.model("t:x1") is not None  # type: ignore[union-attr]
            os._exit(0 if ok else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_record_under_another_models_name_is_refused_not_served(tmp_path: Path) -> None:
    """A writer bug (checksums valid): the index says `t:m` where the record holds `t:x0`."""
    catalog = make_catalog(price=5.0)
    models = dict(catalog.models)
    models["t:m"] = msgspec.structs.replace(models["t:x0"])  # t:x0's record at t:m's place
    path = tmp_path / "c.llmdb"
    write_snapshot(msgspec.structs.replace(catalog, models=models, records=Records()(models.values())), path)
    snap = Snapshot(path)
    with pytest.raises(SnapshotError, match=r"record \d+ holds 't:x0' where the index says 't:m'"):
        snap.model("t:m")
    assert snap.model("t:x0") is not None and snap.model("t:x0").spec == "t:x0"  # type: ignore[union-attr]
    catalog_reader = llmdb.Catalog(path)
    for _ in range(2):  # never cached under the wrong name
        with pytest.raises(SnapshotError):
            catalog_reader.get("t:m")


def _flip_record(data: bytes, path: Path, spec: str) -> bytes:
    """`data` (the file at `path`) with one byte flipped inside `spec`'s record; every section checksum kept."""
    snap = Snapshot(path)
    ordinal = snap.ordinal(spec)
    assert ordinal is not None
    at = snap.file.records + snap.lookup.offsets[ordinal] + 1
    flipped = bytearray(data)
    flipped[at] ^= 0x04
    return bytes(flipped)


def test_a_corrupt_record_is_found_when_decoded_not_at_open(tmp_path: Path) -> None:
    """Format 1.3: one checksum per record, verified at its first decode, so opening reads no record."""
    good = tmp_path / "good.llmdb"
    write_snapshot(make_catalog(), good)
    bad = tmp_path / "bad.llmdb"
    bad.write_bytes(_flip_record(good.read_bytes(), good, "t:x0"))
    snap = Snapshot(bad)  # opens: only the index is verified
    with pytest.raises(SnapshotError, match=r"record 1 \('t:x0'\) checksum mismatch"):
        snap.model("t:x0")
    assert snap.model("t:m") is not None and snap.model("t:x1") is not None


def test_a_file_without_record_checksums_is_verified_whole_at_open(tmp_path: Path) -> None:
    """Files before format 1.3 keep the old promise: the RECORDS section's checksum at open."""
    path = tmp_path / "old.llmdb"
    write_snapshot(make_catalog(), path)
    data = bytearray(path.read_bytes())
    header = fmt.parse_header(data, str(path))
    sections = {}
    for i in range(header.sections):
        sid, _, offset, length = fmt.SECTION.unpack_from(data, fmt.HEADER_SIZE + i * fmt.SECTION.size)
        sections[sid] = bytes(data[offset : offset + length])
    index = msgspec.msgpack.decode(sections[fmt.INDEX], type=fmt.Index)
    sections[fmt.INDEX] = msgspec.msgpack.encode(msgspec.structs.replace(index, record_crcs=b""))
    del sections[fmt.LOOKUP]  # a 1.2 file: neither per-record checksums nor the lookup section
    crcs = {sid: zlib.crc32(section) for sid, section in sections.items()}  # the checksums of the sound bytes
    records = bytearray(sections[fmt.RECORDS])
    records[len(records) // 2] ^= 0x04  # then one record goes bad on disk
    sections[fmt.RECORDS] = bytes(records)
    table, body, offset = bytearray(), bytearray(), fmt.HEADER_SIZE + fmt.SECTION.size * len(sections)
    for sid, section in sections.items():
        table += fmt.SECTION.pack(sid, crcs[sid], offset + len(body), len(section))
        body += section
    fields = list(fmt.HEADER.unpack_from(data))[:-1]
    fields[-1] = len(sections)
    fields[7] = 0
    crc = fmt.header_crc(fmt.HEADER.pack(*fields, 0), bytes(table))
    path.write_bytes(fmt.HEADER.pack(*fields, crc) + bytes(table) + bytes(body))
    with pytest.raises(SnapshotError, match="records section checksum mismatch"):
        Snapshot(path)


def test_a_new_file_with_a_corrupt_record_is_refused_when_found_and_the_last_good_one_serves(tmp_path: Path) -> None:
    """A bad record found at first decode is treated like a file that fails at open (the reader issue)."""
    path = tmp_path / "catalog.llmdb"
    write_snapshot(make_catalog(price=1.0), path, epoch=1)
    catalog = llmdb.Catalog(path)
    assert catalog.get("t:x0").spec == "t:x0"
    nxt = tmp_path / "next.llmdb"
    write_snapshot(make_catalog(price=2.0), nxt, epoch=2)
    (tmp_path / "incoming").write_bytes(_flip_record(nxt.read_bytes(), nxt, "t:m"))
    os.replace(tmp_path / "incoming", path)
    catalog.refresh()
    assert catalog.snapshot.epoch == 2  # mapped: its index is sound
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chosen = catalog.select(like="t:m")  # decodes t:m: found corrupt, answered from epoch 1
        assert chosen.model.spec.startswith("t:") and catalog.snapshot.epoch == 1
        assert catalog.get("t:m").cost.input == 1.0  # type: ignore[union-attr]  # epoch 1's, not an error
    assert catalog.snapshot.epoch == 1
    assert len(caught) == 1 and "back to epoch 1" in str(caught[0].message)
    assert "record 0 ('t:m') checksum mismatch" in catalog.info()["refused"]
    catalog.refresh()
    assert catalog.snapshot.epoch == 1  # the refused file is not taken up again
    os.replace(nxt, path)  # then a good file arrives
    catalog.refresh()
    assert catalog.get("t:m").cost.input == 2.0 and catalog.snapshot.epoch == 2  # type: ignore[union-attr]
    assert "refused" not in catalog.info()


def _rewrite(path: Path, edit: Callable[[dict[int, bytes]], None]) -> None:
    """Rewrite the file at `path` after `edit(sections)`, every checksum recomputed (a buggy writer, or a store
    serving bytes it should not: nothing but the reader's own checks can tell)."""
    data = path.read_bytes()
    header = fmt.parse_header(data, str(path))
    sections = {}
    for i in range(header.sections):
        sid, _, offset, length = fmt.SECTION.unpack_from(data, fmt.HEADER_SIZE + i * fmt.SECTION.size)
        sections[sid] = data[offset : offset + length]
    edit(sections)
    table, body, offset = bytearray(), bytearray(), fmt.HEADER_SIZE + fmt.SECTION.size * len(sections)
    for sid, section in sections.items():
        table += fmt.SECTION.pack(sid, zlib.crc32(section), offset + len(body), len(section))
        body += section
    fields = list(fmt.HEADER.unpack_from(data))[:-1]
    crc = fmt.header_crc(fmt.HEADER.pack(*fields, 0), bytes(table))
    path.write_bytes(fmt.HEADER.pack(*fields, crc) + bytes(table) + bytes(body))


def _with_index(path: Path, **changes: Any) -> None:
    def edit(sections: dict[int, bytes]) -> None:
        index = msgspec.msgpack.decode(sections[fmt.INDEX], type=fmt.Index)
        sections[fmt.INDEX] = msgspec.msgpack.encode(msgspec.structs.replace(index, **changes))

    _rewrite(path, edit)


def _with_record(path: Path, spec: str, record: bytes) -> None:
    """`spec`'s record replaced by `record`, offsets and record checksums made to match."""

    def edit(sections: dict[int, bytes]) -> None:
        index = msgspec.msgpack.decode(sections[fmt.INDEX], type=fmt.Index)
        offsets = array("Q")
        offsets.frombytes(index.offsets)
        records = [sections[fmt.RECORDS][offsets[i] : offsets[i + 1]] for i in range(len(index.specs))]
        records[index.specs.index(spec)] = record
        offsets, crcs = array("Q", [0]), array("I")
        for r in records:
            offsets.append(offsets[-1] + len(r))
            crcs.append(zlib.crc32(r))
        index = msgspec.structs.replace(index, offsets=offsets.tobytes(), record_crcs=crcs.tobytes())
        sections[fmt.INDEX], sections[fmt.RECORDS] = msgspec.msgpack.encode(index), b"".join(records)
        sections[fmt.LOOKUP] = fmt.lookup_section(index.specs, index.offsets, index.record_crcs)

    _rewrite(path, edit)


def _index_of(path: Path) -> fmt.Index:
    snap = Snapshot(path)
    offset, length = snap.file.sections[fmt.INDEX]
    return msgspec.msgpack.decode(path.read_bytes()[offset : offset + length], type=fmt.Index)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda ix: {"offsets": ix.offsets[:-1]}, "bytes of record offsets for 3 specs"),
        (lambda ix: {"offsets": ix.offsets[:-8]}, "bytes of record offsets for 3 specs"),
        (lambda ix: {"offsets": ix.offsets[:-8] + (10**9).to_bytes(8, "little")}, "record offsets run 0..1000000000"),
        (lambda ix: {"record_crcs": ix.record_crcs[:-4]}, "bytes of record checksums for 3 specs"),
        (lambda ix: {"specs": [ix.specs[0]] * len(ix.specs)}, "duplicate spec"),
        (lambda ix: {"provider_ranges": {"t": (2, 1)}}, "provider 't': range 2..1"),
        (lambda ix: {"provider_ranges": {"t": (0, 2**40)}}, "provider 't': range 0..1099511627776"),
        (lambda ix: {"provider_ranges": {"zz": (0, 3)}}, "provider 'zz': range 0..3 does not hold its models"),
        (lambda ix: {"bitsets": {**ix.bitsets, "allowed": b"\xff" * 100}}, "bitset 'allowed' has 100 bytes"),
        (lambda ix: {"bitsets": {**ix.bitsets, "tools": b"\xff"}}, "bitset 'tools' has bits past the last of 3"),
        (lambda ix: {"specs": ix.specs[::-1]}, "specs are not sorted"),
        (lambda ix: {"provider_ranges": {"t": (0, 2)}}, "provider ranges do not cover the 3 specs"),
        (lambda ix: {"columns": {**ix.columns, "context": [1]}}, "column 'context' has 1 values for 3 specs"),
    ],
)
def test_an_index_whose_parts_disagree_is_refused_when_first_read(tmp_path: Path, change: Any, reason: str) -> None:
    """Format 1.4 opens on the LOOKUP section alone; the index is decoded and checked when a query, a name or
    a provider first needs it (an exact `get` never does)."""
    path = tmp_path / "c.llmdb"
    write_snapshot(make_catalog(), path)
    _with_index(path, **change(_index_of(path)))
    snap = Snapshot(path)
    with pytest.raises(SnapshotError, match=re.escape(reason)) as info:
        snap.verify()
    assert str(path) in str(info.value)


def test_an_index_that_disagrees_with_the_lookup_section_is_refused(tmp_path: Path) -> None:
    """A writer bug: the index names other specs than the lookup section that exact lookups use."""
    path = tmp_path / "c.llmdb"
    write_snapshot(make_catalog(), path)
    index = _index_of(path)
    _with_index(path, specs=["t:a", *index.specs[1:]])
    snap = Snapshot(path)
    assert snap.model("t:m") is not None  # an exact lookup reads the lookup section and the record
    with pytest.raises(SnapshotError, match="differ from the lookup section's"):
        snap.specs  # noqa: B018  (the index's specs, decoded and checked on first use)


def test_a_lookup_section_that_does_not_fit_is_refused_at_open(tmp_path: Path) -> None:
    for edit, reason in (
        (lambda b: b[:5], "shorter than its head"),
        (lambda b: fmt.LOOKUP_HEAD.pack(3, 6) + b[8:], "6 hash slots for 3 models"),
        (lambda b: b[:-1], "spec text runs 0..11, it has 10 bytes"),
    ):
        path = tmp_path / "c.llmdb"
        write_snapshot(make_catalog(), path)

        def change(sections: dict[int, bytes], edit: Callable[[bytes], bytes] = edit) -> None:
            sections[fmt.LOOKUP] = edit(sections[fmt.LOOKUP])

        _rewrite(path, change)
        with pytest.raises(SnapshotError, match=re.escape(reason)):
            Snapshot(path)


def test_a_wrongly_typed_column_is_refused_when_first_queried(tmp_path: Path) -> None:
    path = tmp_path / "c.llmdb"
    write_snapshot(make_catalog(), path)
    index = _index_of(path)
    _with_index(path, columns={**index.columns, "context": ["lots", None, None]})
    snap = Snapshot(path)  # the lengths agree: it opens
    assert snap.model("t:m") is not None
    with pytest.raises(
        SnapshotError, match=re.escape("column 'context' holds 'lots' for 't:m' (expected NoneType or int)")
    ):
        llmdb.Catalog(path).models(min_context=10)


def test_malformed_provenance_is_refused_when_read(tmp_path: Path) -> None:
    def short(sections: dict[int, bytes]) -> None:
        table = msgspec.msgpack.decode(sections[fmt.PROVENANCE], type=fmt.ProvenanceTable)
        sections[fmt.PROVENANCE] = msgspec.msgpack.encode(msgspec.structs.replace(table, models=table.models[:1]))

    def out_of_range(sections: dict[int, bytes]) -> None:
        table = msgspec.msgpack.decode(sections[fmt.PROVENANCE], type=fmt.ProvenanceTable)
        models = [{field: [99, *rest] for field, (_, *rest) in m.items()} for m in table.models]
        sections[fmt.PROVENANCE] = msgspec.msgpack.encode(msgspec.structs.replace(table, models=models))

    def negative(sections: dict[int, bytes]) -> None:  # Python would read source -1 as the last one
        table = msgspec.msgpack.decode(sections[fmt.PROVENANCE], type=fmt.ProvenanceTable)
        models = [{field: [-1, *rest] for field, (_, *rest) in m.items()} for m in table.models]
        sections[fmt.PROVENANCE] = msgspec.msgpack.encode(msgspec.structs.replace(table, models=models))

    for edit, reason in (
        (short, "provenance section: 1 models for 3 specs"),
        (out_of_range, "provenance of t:m"),
        (negative, "negative source index"),
    ):
        path = tmp_path / f"{edit.__name__}.llmdb"
        write_snapshot(make_catalog(), path)
        _rewrite(path, edit)
        snap = Snapshot(path)
        assert snap.model("t:m") is not None  # lookups do not need provenance
        with pytest.raises(SnapshotError, match=re.escape(reason)):
            snap.provenance("t:m")
        with pytest.raises(SnapshotError):
            llmdb.Catalog(path).explain("t:m")


@pytest.mark.parametrize(
    "record",
    [
        b"\xa5zombi",  # a string where a map belongs
        b"\x81\xa6status\xa6zombie",  # a status the schema does not have
        b"\x81\xa4spec\xa3\xff\xfe\xfd",  # invalid UTF-8
        b"\x81\xa5extra" + b"\x91" * 10_000 + b"\xc0",  # nested 10,000 deep
        b"\x85\xa4spec",  # truncated msgpack
    ],
)
def test_a_record_that_does_not_decode_is_a_snapshot_error(tmp_path: Path, record: bytes) -> None:
    path = tmp_path / "c.llmdb"
    write_snapshot(make_catalog(), path)
    _with_record(path, "t:m", record)
    snap = Snapshot(path)  # the checksums agree: it opens
    with pytest.raises(SnapshotError, match=r"record 0 \('t:m'\) cannot be decoded"):
        snap.model("t:m")
    assert snap.model("t:x0") is not None
    catalog = llmdb.Catalog(path)
    with pytest.raises(SnapshotError, match="cannot be decoded"):  # no good file before it: the error shows
        catalog.get("t:m")
    found = catalog.models(provider="t")  # filtered on the index: records are read when the list is
    with pytest.raises(SnapshotError):
        list(found)


def test_opening_and_exact_lookups_decode_no_index_part_and_a_filter_only_its_bitsets() -> None:
    """Issue 12: opening does not grow with the catalog, a filter decodes only the index parts it reads."""
    catalog = llmdb.Catalog(llmdb.packaged_path())
    snap = catalog.snapshot
    assert catalog.get("openai:gpt-4o").spec == "openai:gpt-4o"
    assert snap.index.raw is None and snap.index.decoded == {}  # the index section was not even checksummed
    found = catalog.models(require=["tools", "json_schema"])
    assert set(snap.index.decoded) == {"bitsets", "dates"}  # no specs, names or columns; the lifecycle dates
    assert len(found) > 1000 and all(m.capabilities.tools.enabled for m in found[:50])
    snap.verify()  # and the packaged file passes every check there is
    assert set(snap.index.decoded) == set(fmt.Index.__struct_fields__)


def _with_lookup(path: Path, specs: list[str]) -> None:
    """The lookup section rebuilt over `specs` (the index's record offsets and checksums kept)."""

    def edit(sections: dict[int, bytes]) -> None:
        index = msgspec.msgpack.decode(sections[fmt.INDEX], type=fmt.Index)
        sections[fmt.LOOKUP] = fmt.lookup_section(specs, index.offsets, index.record_crcs)

    _rewrite(path, edit)


def test_verify_refuses_what_lookups_would_trip_on_later(tmp_path: Path) -> None:
    """`verify()` makes every check: spec boundaries that differ from the index's (same text, other specs), a hash
    table that cannot find a spec, provenance of the last model and of providers."""
    path = tmp_path / "c.llmdb"
    write_snapshot(make_catalog(), path)
    _with_lookup(path, ["t:mt", ":x0", "t:x1"])  # the same text as t:m, t:x0, t:x1, cut elsewhere
    with pytest.raises(SnapshotError, match="specs differ from the lookup section's"):
        Snapshot(path).verify()

    write_snapshot(make_catalog(), path)

    def no_slots(sections: dict[int, bytes]) -> None:
        n, slots = fmt.LOOKUP_HEAD.unpack_from(sections[fmt.LOOKUP])
        table = fmt.lookup_layout(n, slots)[3]
        data = bytearray(sections[fmt.LOOKUP])
        data[table : table + 4 * slots] = bytes(4 * slots)
        sections[fmt.LOOKUP] = bytes(data)

    _rewrite(path, no_slots)
    with pytest.raises(SnapshotError, match="'t:m' is not in its hash table"):
        Snapshot(path).verify()

    write_snapshot(make_catalog(), path)

    def last_source_missing(sections: dict[int, bytes]) -> None:
        table = msgspec.msgpack.decode(sections[fmt.PROVENANCE], type=fmt.ProvenanceTable)
        models = [*table.models[:-1], {"cost.input": (99, False, ())}]
        sections[fmt.PROVENANCE] = msgspec.msgpack.encode(msgspec.structs.replace(table, models=models))

    _rewrite(path, last_source_missing)
    with pytest.raises(SnapshotError, match="provenance of t:x1"):
        Snapshot(path).verify()
    write_snapshot(make_catalog(), path)
    Snapshot(path).verify()  # a sound file passes


def test_records_are_read_through_the_mapping_when_the_descriptor_is_gone(tmp_path: Path) -> None:
    """A process that closes every descriptor (a daemonizing library) must not see its catalog as corrupt."""
    path = tmp_path / "c.llmdb"
    write_snapshot(make_catalog(), path)
    snap = Snapshot(path)
    os.close(snap.file.fd)
    other = os.open(os.devnull, os.O_RDONLY)  # the number may now read another file
    try:
        assert snap.model("t:m").cost.input == 1.0  # type: ignore[union-attr]
    finally:
        os.close(other)


def test_a_model_list_read_across_a_fallback_finishes_from_the_file_served_before(tmp_path: Path) -> None:
    publish(make_catalog(1.0, extra_models=2), tmp_path)
    catalog = llmdb.Catalog(tmp_path / "catalog.llmdb")
    assert len(catalog.models(provider="t")) == 3
    bad = tmp_path / "bad.llmdb"  # a writer bug: one record of the next file is corrupt, checksums kept
    write_snapshot(make_catalog(2.0, extra_models=4), bad, epoch=2)
    bad.write_bytes(_flip_record(bad.read_bytes(), bad, "t:x2"))
    os.replace(bad, tmp_path / "catalog.llmdb")
    catalog.refresh()
    found = catalog.models(provider="t")
    assert len(found) == 5  # the new file answers the filter from its index
    with pytest.warns(UserWarning):
        specs = [m.spec for m in found]  # t:m, t:x0, t:x1 from the new file; t:x2 is corrupt: the old file's
    assert specs == ["t:m", "t:x0", "t:x1"]
    assert [m.spec for m in catalog.models(provider="t")] == ["t:m", "t:x0", "t:x1"]  # the file served before
    assert catalog.get("t:m").cost.input == 1.0  # type: ignore[union-attr]


def test_the_file_served_before_forgets_what_it_decoded_and_answers_the_same_after_a_fallback(
    tmp_path: Path,
) -> None:
    """A publish sheds the previous file's decoded records, index parts, columns and provenance (it is kept only
    to fall back to); falling back decodes them again, to the same answers."""
    publish(make_catalog(1.0, extra_models=2), tmp_path)
    catalog = llmdb.Catalog(tmp_path / "catalog.llmdb")
    before = (
        catalog.get("t:m"),
        catalog.explain("t:m"),
        [m.spec for m in catalog.models(provider="t")],
        catalog.supports("t:m", "tools"),
        catalog.provider("t"),
    )
    old = catalog.snapshot
    bad = tmp_path / "bad.llmdb"
    write_snapshot(make_catalog(2.0, extra_models=2), bad, epoch=2)
    bad.write_bytes(_flip_record(bad.read_bytes(), bad, "t:m"))
    os.replace(bad, tmp_path / "catalog.llmdb")
    catalog.refresh()
    assert catalog.snapshot.epoch == 2
    assert old.model_at(0) is not before[0]  # decoded again: the first decode was forgotten at the publish
    with pytest.warns(UserWarning, match="back to epoch 1"):
        again = catalog.get("t:m")
    assert catalog.snapshot is old
    assert again == before[0] and again.cost.input == 1.0  # type: ignore[union-attr]
    assert catalog.explain("t:m") == before[1]
    assert [m.spec for m in catalog.models(provider="t")] == before[2]
    assert catalog.supports("t:m", "tools") == before[3] and catalog.provider("t") == before[4]
