"""Reading one snapshot file: `Snapshot` owns one verified read-only mapping, its lookup section (or the older
index), the index parts it decodes and checks on first use, and the profile it is read as. Following a path as
new files are published there is `_freshness`'s.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import mmap
import os
import struct
import sys
import typing
import weakref
import zlib
from array import array
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import msgspec

from llmdb import contract as fmt
from llmdb.errors import SnapshotError, UnknownProfile
from llmdb.schema import READABLE_SCHEMAS, SCHEMA_VERSION, BuildReport, Model, Provenance, Provider

_COLUMN_TYPES: dict[str, set[type]] = {
    "context": {int, type(None)},
    "output": {int, type(None)},
    "input_cost": {int, float, type(None)},
    "output_cost": {int, float, type(None)},
    "release_date": {str, type(None)},
    "family": {str, type(None)},
    "base_id": {str, type(None)},
}
"""What a column's values may be: the queries compare and sort them."""
_MODEL = msgspec.msgpack.Decoder(Model)
_INDEX_DEFAULTS = {
    name: default.factory() if hasattr(default, "factory") else default  # `{}` defaults are msgspec Factories
    for name, default in zip(
        fmt.Index.__struct_fields__[-len(fmt.Index.__struct_defaults__) :], fmt.Index.__struct_defaults__, strict=True
    )
}
"""Index fields newer than some files → the value such a file has."""
_RAW_INDEX = msgspec.msgpack.Decoder(
    msgspec.defstruct(
        "RawIndex",
        [
            (name, msgspec.Raw, msgspec.Raw()) if name in _INDEX_DEFAULTS else (name, msgspec.Raw)
            for name in fmt.Index.__struct_fields__
        ],
        array_like=True,
    )
)
"""The index as one encoded value per field: finding the fields' boundaries allocates nothing per model."""
_UNSET: Any = object()


def _close(fd: int, device: int, inode: int) -> None:
    """Close a snapshot's descriptor, unless the process closed it already (a daemonizing library): the number
    may now be another file's, so it is closed only while it still is this file."""
    with contextlib.suppress(OSError):
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) == (device, inode):
            os.close(fd)


def _array(data: memoryview, code: Literal["Q", "I"]) -> Any:
    """Little-endian unsigned integers read in place (a copy, byte-swapped, on a big-endian machine)."""
    if sys.byteorder == "little":
        return data.cast(code)
    values = array(code, data.tobytes())
    values.byteswap()
    return values


def _little(values: Any) -> bytes:
    """Integers as the file stores them (little-endian)."""
    if sys.byteorder == "little":
        return bytes(values.tobytes())
    swapped = array(values.format if isinstance(values, memoryview) else values.typecode, values.tobytes())
    swapped.byteswap()
    return swapped.tobytes()


def _spec_fault(spec: str) -> str | None:
    """Why `spec` is not a spec (`provider:model`, neither part empty, as `schema.make_spec` writes one), or None:
    name resolution splits every spec on its first `:`."""
    provider, _, model_id = spec.partition(":")
    return None if provider and model_id else f"spec {spec!r} is not 'provider:model'"


_READ_TO_CHECK = frozenset({fmt.LOOKUP, fmt.RECORDS})
"""Sections checksummed with `pread` rather than through the mapping: lookups touch only a few of their pages."""


@functools.cache
def _index_decoder(name: str) -> msgspec.msgpack.Decoder[Any]:
    return msgspec.msgpack.Decoder(typing.get_type_hints(fmt.Index)[name])


_PART_CHECKS: dict[str, Callable[[Snapshot, Any], str | None]] = {}
"""Index field → the check it passes when first decoded (None: fine, else what is wrong); filled below."""
_PROVENANCE = msgspec.msgpack.Decoder(fmt.ProvenanceTable)
_REPORT = msgspec.msgpack.Decoder(BuildReport)


class Snapshot:
    """One snapshot file mapped read-only and shared, verified once; records decode lazily and are cached."""

    def __init__(self, path: str | os.PathLike[str], profile: str | None = None) -> None:
        """`profile`: read the file as that profile sees it (`UnknownProfile` naming the file's profiles)."""
        self.path = Path(path)
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise SnapshotError(f"{self.path}: cannot open snapshot: {exc.strerror or exc}") from None
        self._fd = fd
        """Records are read from it with `pread` (see `_record_bytes`), kept open as long as the mapping."""
        try:
            st = os.fstat(fd)
            if st.st_size < fmt.HEADER_SIZE:
                raise SnapshotError(f"{self.path}: truncated: {st.st_size} bytes, shorter than the header")
            self._mm = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        except (OSError, SnapshotError) as exc:
            os.close(fd)
            if isinstance(exc, SnapshotError):
                raise
            raise SnapshotError(f"{self.path}: cannot open snapshot: {exc.strerror or exc}") from None
        weakref.finalize(self, _close, fd, st.st_dev, st.st_ino)
        self.identity = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
        """What `stat` said of the file when it was mapped: the fallback freshness check compares it."""
        view = memoryview(self._mm)
        self._crcs: dict[int, int] = {}
        self._checked: set[int] = set()
        self._sections = self._verify(view)
        self._view = view
        self._records, records_size = self._sections[fmt.RECORDS]
        self._records_end = self._records + records_size
        self._cache: dict[str, Model] = {}
        self._checked_columns: set[str] = set()
        self._column_patched: dict[str, list[Any]] = {}
        self._bits: dict[str, int] = {}
        self._provenance: fmt.ProvenanceTable | None = None
        self._raw: Any = None
        """The index section with each field still encoded (`_RAW_INDEX`), once its checksum has passed."""
        self._parts: dict[str, Any] = {}
        """Index fields decoded and checked so far (`_part`)."""
        self._ordinals: dict[str, int] | None = None
        """Spec → ordinal, for files without a LOOKUP section (before 1.4)."""
        self._providers: dict[str, Provider] | None = None
        if fmt.LOOKUP in self._sections:
            self._open_lookup()
        else:
            self._open_without_lookup()
        self.all_bits = (1 << self.model_count) - 1
        self.profile = profile
        self._hidden: dict[str, str] = {}
        """Specs the profile excludes: not found under it (empty without a profile: one truth test per lookup)."""
        self._overridden: dict[str, bytes] = {}
        self._column_patches: dict[str, dict[str, Any]] = {}
        if profile is not None:
            self._apply_profile(profile)

    def _apply_profile(self, name: str) -> None:
        """Answer as profile `name` does: its bitsets, denials, exclusions, overridden records and columns."""
        found = self.profiles.get(name)  # each profile checked with the part (`_check_profiles`)
        if found is None:
            have = ", ".join(sorted(self.profiles)) or "none"
            raise UnknownProfile(f"{self.path}: no profile {name!r} (the file's profiles: {have})")
        self._parts["bitsets"] = found.bitsets
        self._parts["denied"] = found.denied
        self._parts["excluded"] = {**self.excluded, **found.excluded}
        self._hidden, self._overridden, self._column_patches = found.excluded, found.records, found.columns

    @property
    def hidden(self) -> dict[str, str]:
        """The specs this file has that the profile it is read as excludes (with why); empty without one."""
        return self._hidden

    @property
    def profiles(self) -> dict[str, fmt.ProfileIndex]:
        """The profiles compiled into this file, by name."""
        profiles: dict[str, fmt.ProfileIndex] = self._part("profiles")
        return profiles

    def _open_lookup(self) -> None:
        """Format 1.4: exact lookups read the LOOKUP section in place; the index is decoded when first needed.
        Only constant-time checks here (the section's checksum aside), so opening does not grow with the file."""
        data = self._section(fmt.LOOKUP)
        size = len(data)

        def bad(what: str) -> SnapshotError:
            return SnapshotError(f"{self.path}: lookup section: {what}")

        if size < fmt.LOOKUP_HEAD.size:
            raise bad(f"{size} bytes, shorter than its head")
        n, slots = fmt.LOOKUP_HEAD.unpack_from(data)
        if slots <= n or slots & (slots - 1):
            raise bad(f"{slots} hash slots for {n} models (expected a power of two above {n})")
        offsets, crcs, starts, table, text = fmt.lookup_layout(n, slots)
        if text > size:
            raise bad(f"{size} bytes, too short for {n} models and {slots} slots")
        self._offsets = _array(data[offsets:crcs], "Q")
        self._record_crcs = _array(data[crcs:starts], "I")
        self._spec_starts = _array(data[starts:table], "I")
        self._slots = _array(data[table:text], "I")
        self._text = data[text:]
        if self._spec_starts[0] != 0 or self._spec_starts[n] != size - text:
            raise bad(f"spec text runs {self._spec_starts[0]}..{self._spec_starts[n]}, it has {size - text} bytes")
        if self._offsets[0] != 0 or self._offsets[n] > self._sections[fmt.RECORDS][1]:
            raise bad(f"record offsets run {self._offsets[0]}..{self._offsets[n]} past the records section")
        self.model_count: int = n

    def _open_without_lookup(self) -> None:
        """A file before 1.4: the specs, record offsets and checksums come from the index, decoded at open."""
        specs = self._raw_part("specs")
        self.model_count = len(specs)
        self._ordinals = {spec: i for i, spec in enumerate(specs)}
        self._part("specs", specs)
        self._offsets = _array(memoryview(self._part("offsets")), "Q")
        self._record_crcs = _array(memoryview(self._part("record_crcs")), "I")
        if not self._record_crcs:
            self._section(fmt.RECORDS)  # before 1.3: verify every record now, as readers of it always did

    def _raw_part(self, name: str) -> Any:
        """Index field `name`, decoded but not yet checked (the index section's checksum verified first)."""
        raw = self._raw
        if raw is None:
            raw = self._raw = self._read(_RAW_INDEX, self._section(fmt.INDEX), "index section")
        encoded = getattr(raw, name)
        if not encoded:
            return _INDEX_DEFAULTS[name]  # a field newer than this file
        return self._read(_index_decoder(name), encoded, f"index field {name!r}")

    def _part(self, name: str, decoded: Any = _UNSET) -> Any:
        """Index field `name`, decoded (unless given `decoded`) and checked on first use: opening a 1.4 file
        decodes none of them, and a filter decodes only the bitsets it needs."""
        found = self._parts.get(name, _UNSET)
        if found is _UNSET:
            found = self._raw_part(name) if decoded is _UNSET else decoded
            check = _PART_CHECKS.get(name)
            if check is not None:
                problem = check(self, found)
                if problem:
                    raise SnapshotError(f"{self.path}: index: {problem}")
            self._parts[name] = found
        return found

    @property
    def specs(self) -> list[str]:
        """All specs in ordinal order (decodes that part of the index once)."""
        specs: list[str] = self._part("specs")
        return specs

    def _verify(self, view: memoryview) -> dict[int, tuple[int, int]]:
        size = len(view)
        header = fmt.parse_header(view, str(self.path))
        if header.major != fmt.FORMAT_MAJOR:
            raise SnapshotError(
                f"{self.path}: snapshot format {header.major}.{header.minor} is not supported"
                f" (this llmdb reads {fmt.FORMAT_MAJOR}.x)"
            )
        if header.schema not in READABLE_SCHEMAS:
            advice = "upgrade llmdb" if header.schema > SCHEMA_VERSION else "rebuild the file with llmdbd"
            raise SnapshotError(
                f"{self.path}: schema version {header.schema} is not supported (this llmdb reads"
                f" {', '.join(map(str, READABLE_SCHEMAS))}; {advice})"
            )
        table_end = fmt.HEADER_SIZE + fmt.SECTION.size * header.sections
        if table_end > size:
            raise SnapshotError(f"{self.path}: truncated: section table ends at {table_end}, file has {size} bytes")
        if fmt.header_crc(bytes(view[: fmt.HEADER_SIZE]), bytes(view[fmt.HEADER_SIZE : table_end])) != header.crc:
            raise SnapshotError(f"{self.path}: header checksum mismatch (corrupt file)")
        sections: dict[int, tuple[int, int]] = {}
        for i in range(header.sections):
            sid, scrc, offset, length = fmt.SECTION.unpack_from(view, fmt.HEADER_SIZE + i * fmt.SECTION.size)
            name = fmt.SECTION_NAMES.get(sid, f"#{sid}")
            if offset + length > size:
                raise SnapshotError(
                    f"{self.path}: truncated: {name} section ends at {offset + length}, file has {size}"
                )
            sections[sid] = (offset, length)
            self._crcs[sid] = scrc
        missing = [name for s, name in fmt.REQUIRED_SECTIONS.items() if s not in sections]
        if missing:
            raise SnapshotError(f"{self.path}: missing section(s): {', '.join(missing)}")
        self.format_version = f"{header.major}.{header.minor}"
        self.schema_version: int = header.schema
        self.epoch: int = header.epoch
        self.built_at: float = header.built_at
        self.content_hash: str = header.content_hash
        return sections

    def _check_specs(self, specs: list[str]) -> str | None:
        n = self.model_count
        if len(specs) != n:
            return f"{len(specs)} specs, the lookup section has {n}"
        unique = len(self._ordinals) if self._ordinals is not None else len(set(specs))
        if unique != n:
            return f"{n - unique} duplicate spec(s)"
        if sorted(specs) != specs:  # ~0.1 ms for 9,000 specs; provider ranges and `_probe` rely on it
            return "specs are not sorted"
        for spec in specs:  # ~0.8 ms for 9,000 specs
            provider, _, model_id = spec.partition(":")
            if not provider or not model_id:
                return _spec_fault(spec)
        if fmt.LOOKUP in self._sections:
            encoded = [s.encode() for s in specs]
            text = bytes(self._text)  # compared as bytes: a memoryview compares item by item, 40 times slower
            if text != b"".join(encoded) or _little(self._spec_starts) != _little(fmt.spec_starts(encoded)):
                return "specs differ from the lookup section's"
        return None

    def _check_offsets(self, offsets: bytes) -> str | None:
        n, records = self.model_count, self._sections[fmt.RECORDS][1]
        if len(offsets) != 8 * (n + 1):
            return f"{len(offsets)} bytes of record offsets for {n} specs (expected {8 * (n + 1)})"
        first, last = struct.unpack_from("<Q", offsets)[0], struct.unpack_from("<Q", offsets, 8 * n)[0]
        if first != 0 or last > records:
            return f"record offsets run {first}..{last}, the records section has {records} bytes"
        if fmt.LOOKUP in self._sections and offsets != _little(self._offsets):
            return "record offsets differ from the lookup section's"
        return None

    def _check_record_crcs(self, crcs: bytes) -> str | None:
        n = self.model_count
        if crcs and len(crcs) != 4 * n:
            return f"{len(crcs)} bytes of record checksums for {n} specs (expected {4 * n})"
        if fmt.LOOKUP in self._sections and crcs != _little(self._record_crcs):
            return "record checksums differ from the lookup section's"
        return None

    def _check_ranges(self, ranges: dict[str, tuple[int, int]]) -> str | None:
        n, specs = self.model_count, self.specs
        for pid, (start, end) in ranges.items():
            if not 0 <= start <= end <= n or (
                start < end and not (specs[start].startswith(f"{pid}:") and specs[end - 1].startswith(f"{pid}:"))
            ):
                return f"provider {pid!r}: range {start}..{end} does not hold its models ({n} specs)"
        # Sorted specs and ranges whose ends have the provider's prefix: each range holds only that provider's
        # models. Disjoint ranges covering every spec: no model is outside its provider's range.
        covered = 0
        for start, end in sorted(r for r in ranges.values() if r[0] < r[1]):
            if start < covered:
                return f"provider ranges overlap at {start}"
            covered = end
        if sum(end - start for start, end in ranges.values()) != n:
            return f"provider ranges do not cover the {n} specs"
        return None

    def _check_bitsets(self, bitsets: dict[str, bytes]) -> str | None:
        n = self.model_count
        width, spare = (n + 7) // 8, n % 8
        for name, raw in bitsets.items():
            if len(raw) > width:
                return f"bitset {name!r} has {len(raw)} bytes, more than {n} models need ({width})"
            if spare and len(raw) == width and raw[-1] >> spare:
                return f"bitset {name!r} has bits past the last of {n} models"
        return None

    def _check_columns(self, columns: dict[str, list[Any]]) -> str | None:
        for name, values in columns.items():
            if len(values) != self.model_count:
                return f"column {name!r} has {len(values)} values for {self.model_count} specs"
        return None

    def _check_profiles(self, profiles: dict[str, fmt.ProfileIndex]) -> str | None:
        """Every profile, whichever a reader is opened with: the specs it names are the file's, its bitsets fit
        the models and leave out the models it excludes, its column values have their column's types. (Its
        records are checked when first decoded, as the base's are.)"""
        for name, profile in profiles.items():
            problem = self._check_bitsets(profile.bitsets)
            if problem:
                return f"profile {name!r}: {problem}"
            excluded = 0
            for spec in (*profile.records, *profile.excluded):
                ordinal = self._probe(spec)
                if ordinal is None:
                    return f"profile {name!r} names {spec!r}, which the file does not have"
                if spec in profile.excluded:
                    excluded |= 1 << ordinal
            served = next((k for k, raw in profile.bitsets.items() if int.from_bytes(raw, "little") & excluded), None)
            if served is not None:
                return f"profile {name!r}: bitset {served!r} holds a model the profile excludes"
            for column, values in profile.columns.items():
                allowed = _COLUMN_TYPES.get(column)
                for spec, value in values.items():
                    if self._probe(spec) is None:
                        return f"profile {name!r} column {column!r} names {spec!r}, which the file does not have"
                    if allowed is not None and type(value) not in allowed:
                        return f"profile {name!r} column {column!r} holds {value!r} for {spec!r}"
        return None

    def verify(self) -> None:
        """Every check a reader makes when it first needs a part, made now: each index field, each column's
        values, every record, the provenance and the report (for a daemon about to use or republish a file)."""
        for name in fmt.Index.__struct_fields__:
            self._part(name)
        for name in fmt.COLUMNS:
            self.column(name)
        for ordinal in range(self.model_count):
            spec = self.spec_at(ordinal)
            if fmt.LOOKUP in self._sections and spec not in self._hidden and self.ordinal(spec) != ordinal:
                raise SnapshotError(f"{self.path}: lookup section: {spec!r} is not found at its place")
            if spec not in self._cache:  # a cached record passed these checks when it was decoded
                self._decode(ordinal, keep=False)
        table = self.provenance_table()
        for ordinal, fields in enumerate(table.models):
            self._expand(fields, self.spec_at(ordinal))
        for pid, fields in table.providers.items():
            self._expand(fields, f"provider {pid}")
        self.report()

    def _read(self, decoder: msgspec.msgpack.Decoder[Any], data: bytes | memoryview, what: str) -> Any:
        """The one place bytes of the file are decoded: every way they can fail to decode (malformed msgpack, a
        value of the wrong type, invalid UTF-8, nesting too deep) is `SnapshotError` naming the file and part."""
        try:
            return decoder.decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise SnapshotError(f"{self.path}: {what} cannot be decoded: {exc}") from None

    def _pread(self, offset: int, length: int) -> bytes:
        """Bytes of the file read with `pread`, not through the mapping: the kernel maps ~64 KiB around every
        page a process first touches, so reading 1,000 scattered records through the mapping made ~80 MiB of a
        large file resident in each process; a read copies just the bytes (page cache still shared).
        Records go through `_record_bytes`; this checksums sections that lookups only probe."""
        try:
            data = os.pread(self._fd, length, offset)
        except OSError as exc:
            raise SnapshotError(f"{self.path}: cannot read: {exc.strerror or exc}") from None
        if len(data) != length:
            raise SnapshotError(f"{self.path}: truncated: {offset + length} bytes needed, the file has fewer")
        return data

    def _record_bytes(self, ordinal: int, start: int, end: int) -> bytes | memoryview:
        """A record's bytes, read with `pread` and checked against its checksum. A mismatch is read again through
        the mapping before it is blamed on the file: the descriptor may no longer be this file's (a process that
        closed every descriptor, then opened others under the same number). Files without per-record checksums
        are read through the mapping (their records were verified whole at open)."""
        if not self._record_crcs:
            return self._view[start:end]
        expected = self._record_crcs[ordinal]
        try:
            data: bytes | memoryview = os.pread(self._fd, end - start, start)
        except OSError:
            data = b""
        if zlib.crc32(data) != expected:
            data = self._view[start:end]
            if zlib.crc32(data) != expected:
                spec = self.spec_at(ordinal)
                raise SnapshotError(f"{self.path}: record {ordinal} ({spec!r}) checksum mismatch (corrupt file)")
        return data

    def _checksum(self, offset: int, length: int) -> int:
        """crc32 of a part of the file, read in chunks (checking a section does not make it resident)."""
        crc, end = 0, offset + length
        while offset < end:
            chunk = min(end - offset, 1 << 20)
            crc = zlib.crc32(self._pread(offset, chunk), crc)
            offset += chunk
        return crc

    def _section(self, sid: int) -> memoryview:
        """A section's bytes, checksummed on first use (the index and provenance are not needed to open a file)."""
        offset, length = self._sections[sid]
        data = self._view[offset : offset + length]
        if sid not in self._checked:
            # Sections decoded whole are checksummed through the mapping (decoding touches every page anyway);
            # the lookup section is probed a few bytes at a time, so it is read, not mapped, to be checksummed.
            crc = self._checksum(offset, length) if sid in _READ_TO_CHECK else zlib.crc32(data)
            if crc != self._crcs[sid]:
                raise SnapshotError(f"{self.path}: {fmt.SECTION_NAMES[sid]} section checksum mismatch (corrupt file)")
            self._checked.add(sid)
        return data

    @property
    def superseded(self) -> bool:
        """True once the publisher has replaced this file with a newer one (a memory read, no system call)."""
        return bool(self._mm[fmt.FLAGS_OFFSET] & fmt.SUPERSEDED)

    # -- models --------------------------------------------------------------------------------------------

    def model(self, spec: str) -> Model | None:
        """The model with exactly this spec, decoded on first use and cached for the life of the mapping."""
        model = self._cache.get(spec)
        if model is None:
            ordinal = self.ordinal(spec)
            if ordinal is None:
                return None
            model = self._decode(ordinal)
        return model

    def model_at(self, ordinal: int) -> Model:
        model = self._cache.get(self.spec_at(ordinal))
        return model if model is not None else self._decode(ordinal)

    def _decode(self, ordinal: int, *, keep: bool = True) -> Model:
        """Record `ordinal` as a `Model`; a record that does not decode, or names another spec than the index
        does at its place, is `SnapshotError` (never another model under this name)."""
        spec = self.spec_at(ordinal)
        start = self._records + self._offsets[ordinal]
        end = self._records + self._offsets[ordinal + 1]
        if not self._records <= start <= end <= self._records_end:
            raise SnapshotError(f"{self.path}: index: record {ordinal} ({spec!r}) runs {start}..{end}, off its section")
        data: bytes | memoryview | None = self._overridden.get(spec) if self._overridden else None
        if data is None:
            data = self._record_bytes(ordinal, start, end)
        model: Model = self._read(_MODEL, data, f"record {ordinal} ({spec!r})")
        if model.spec != spec:
            raise SnapshotError(f"{self.path}: record {ordinal} holds {model.spec!r} where the index says {spec!r}")
        fault = _spec_fault(spec)  # the specs a listing reads in place are not otherwise checked
        if fault:
            raise SnapshotError(f"{self.path}: record {ordinal}: {fault}")
        # Two threads may decode the same record at once; both results are equal, either may stay cached.
        if keep:
            self._cache[model.spec] = model
        return model

    def ordinal(self, spec: str) -> int | None:
        """The ordinal of exactly `spec`: a probe of the LOOKUP section's hash slots (format 1.4), read in place.
        None for a spec the profile read excludes."""
        if self._hidden and spec in self._hidden:
            return None
        return self._probe(spec)

    def _probe(self, spec: str) -> int | None:
        """`ordinal` whatever the profile hides."""
        if self._ordinals is not None:
            return self._ordinals.get(spec)
        try:
            key = spec.encode()
        except UnicodeEncodeError:
            return None  # lone surrogates: no spec has them
        slots, starts, text, n = self._slots, self._spec_starts, self._text, self.model_count
        mask = len(slots) - 1
        slot = fmt.spec_hash(key) & mask
        for _ in range(len(slots)):  # a table without an empty slot (a corrupt one) still ends
            found: int = slots[slot]
            if not found:
                break
            if found <= n and text[starts[found - 1] : starts[found]] == key:
                return found - 1  # a hit needs no check: the record found is checked against its spec
            slot = (slot + 1) & mask
        self._confirm_miss(spec)
        return None

    def _confirm_miss(self, spec: str) -> None:
        """`SnapshotError` when the hash table missed a spec the file has (a corrupt table): a bisection of the
        sorted specs (decoded on the first miss, as resolving the name goes on to do anyway)."""
        specs = self.specs
        at = bisect.bisect_left(specs, spec)
        if at < len(specs) and specs[at] == spec:
            raise SnapshotError(f"{self.path}: lookup section: {spec!r} is not in its hash table")

    def spec_at(self, ordinal: int) -> str:
        if self._ordinals is not None:
            return self.specs[ordinal]
        if not 0 <= ordinal < self.model_count:
            raise IndexError(ordinal)
        try:
            return str(self._text[self._spec_starts[ordinal] : self._spec_starts[ordinal + 1]], "utf-8")
        except UnicodeDecodeError:
            raise SnapshotError(f"{self.path}: lookup section: spec {ordinal} is not UTF-8") from None

    @property
    def model_aliases(self) -> dict[str, str]:
        """Alias spec (`openai:gpt4o`) → the spec it stands for."""
        aliases: dict[str, str] = self._part("model_aliases")
        return aliases

    def model_alias(self, spec: str) -> str | None:
        """The spec an alias spec (`openai:gpt4o`) stands for."""
        return self.model_aliases.get(spec)

    def denied_reason(self, spec: str) -> str | None:
        """The allow/deny rule that denies `spec`, or None when it is allowed."""
        return self.denied.get(spec)

    @property
    def denied(self) -> dict[str, str]:
        """Spec → the rule denying it, for every denied model."""
        denied: dict[str, str] = self._part("denied")
        return denied

    @property
    def names(self) -> dict[str, str]:
        """Other catalogs' names (LiteLLM's keys) → spec."""
        names: dict[str, str] = self._part("names")
        return names

    @property
    def excluded(self) -> dict[str, str]:
        """Spec → the exclude (and its file) that removed it from the catalog: such specs have no record."""
        excluded: dict[str, str] = self._part("excluded")
        return excluded

    # -- providers -----------------------------------------------------------------------------------------

    @property
    def providers(self) -> list[Provider]:
        providers: list[Provider] = self._part("providers")
        return providers

    def provider(self, pid: str) -> Provider | None:
        found = self._providers
        if found is None:
            found = self._providers = {p.id: p for p in self.providers}
        return found.get(pid)

    @property
    def provider_alias_map(self) -> dict[str, str]:
        """Every canonical provider id and alias → canonical id."""
        aliases: dict[str, str] = self._part("provider_aliases")
        return aliases

    def _range(self, pid: str) -> tuple[int, int]:
        ranges: dict[str, tuple[int, int]] = self._part("provider_ranges")
        return ranges.get(pid, (0, 0))

    def specs_of_provider(self, pid: str) -> Sequence[str]:
        start, end = self._range(pid)
        return self.specs[start:end]

    def provider_bits(self, pid: str) -> int:
        """The bitset of one provider's models: a contiguous run of ordinals."""
        start, end = self._range(pid)
        return ((1 << (end - start)) - 1) << start

    # -- bitsets and columns -------------------------------------------------------------------------------

    def bits(self, name: str) -> int:
        """The bitset `name` (a feature, `status:beta`, `input:image`, `allowed`...); 0 for a modality no model has."""
        found = self._bits.get(name)
        if found is None:
            bitsets: dict[str, bytes] = self._part("bitsets")
            raw = bitsets.get(name)
            found = self._bits[name] = int.from_bytes(raw, "little") if raw is not None else 0
        return found

    @property
    def modes(self) -> list[str]:
        """The modes some model of this file has (`chat`, `embedding`, ...)."""
        return sorted(k[5:] for k in self._part("bitsets") if k.startswith("mode:"))

    def column(self, name: str) -> list[Any]:
        """Per-ordinal values (`context`, `output`, `input_cost`, `output_cost`, `release_date`, `family`,
        `base_id`); each column's value types are checked on its first use (`SnapshotError` naming the value)."""
        columns: dict[str, list[Any]] = self._part("columns")
        found = columns.get(name)
        if found is None:
            return [None] * self.model_count  # a column newer than this file
        if name not in self._checked_columns:
            allowed = _COLUMN_TYPES.get(name)
            if allowed is not None and not set(map(type, found)) <= allowed:
                ordinal, value = next((i, v) for i, v in enumerate(found) if type(v) not in allowed)
                raise SnapshotError(
                    f"{self.path}: index: column {name!r} holds {value!r} for {self.specs[ordinal]!r}"
                    f" (expected {' or '.join(sorted(t.__name__ for t in allowed))})"
                )
            self._checked_columns.add(name)
            patch = self._column_patches.get(name)
            if patch:
                found = list(found)
                for spec, value in patch.items():
                    at = self._probe(spec)
                    if at is not None:  # the index's check found every one
                        found[at] = value
                self._column_patched[name] = found
        return self._column_patched.get(name, found)

    @staticmethod
    def iter_ordinals(bits: int) -> Iterator[int]:
        """The set bits' positions, ascending."""
        text = format(bits, "b")[::-1]
        i = text.find("1")
        while i >= 0:
            yield i
            i = text.find("1", i + 1)

    # -- provenance and report (decoded only when asked for) ---------------------------------------------

    def provenance_table(self) -> fmt.ProvenanceTable:
        table = self._provenance
        if table is None:
            table = self._read(_PROVENANCE, self._section(fmt.PROVENANCE), "provenance section")
            if len(table.models) != self.model_count:
                raise SnapshotError(
                    f"{self.path}: provenance section: {len(table.models)} models for {self.model_count} specs"
                )
            self._provenance = table
        return table

    def provenance(self, spec: str) -> dict[str, Provenance]:
        ordinal = self.ordinal(spec)
        if ordinal is None:
            return {}
        return self._expand(self.provenance_table().models[ordinal], spec)

    def provider_provenance(self, pid: str) -> dict[str, Provenance]:
        return self._expand(self.provenance_table().providers.get(pid, {}), f"provider {pid}")

    def _expand(self, fields: Any, whose: str) -> dict[str, Provenance]:
        try:
            return fmt.expand(self.provenance_table().sources, fields)
        except (IndexError, KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(f"{self.path}: provenance of {whose} is malformed: {exc!r}") from None

    def report(self) -> BuildReport:
        report: BuildReport = self._read(_REPORT, self._section(fmt.REPORT), "report section")
        return report


_PART_CHECKS.update(
    specs=Snapshot._check_specs,
    offsets=Snapshot._check_offsets,
    record_crcs=Snapshot._check_record_crcs,
    provider_ranges=Snapshot._check_ranges,
    bitsets=Snapshot._check_bitsets,
    columns=Snapshot._check_columns,
    profiles=Snapshot._check_profiles,
)
