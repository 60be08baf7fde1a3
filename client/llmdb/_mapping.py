"""One snapshot file opened read-only and mapped, its header and section table verified: every read of its bytes
(through the mapping, with `pread`, checksummed per section on first use) and the one place they are decoded."""

from __future__ import annotations

import contextlib
import mmap
import os
import weakref
import zlib
from typing import Any

import msgspec

from llmdb.contract import format as fmt
from llmdb.errors import SnapshotError
from llmdb.schema import READABLE_SCHEMAS, SCHEMA_VERSION, Model

_MODEL = msgspec.msgpack.Decoder(Model)

_READ_TO_CHECK = frozenset({fmt.LOOKUP, fmt.RECORDS})
"""Sections checksummed with `pread` rather than through the mapping: lookups touch only a few of their pages."""


def _close(fd: int, device: int, inode: int) -> None:
    """Close a snapshot's descriptor, unless the process closed it already (a daemonizing library): the number
    may now be another file's, so it is closed only while it still is this file."""
    with contextlib.suppress(OSError):
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) == (device, inode):
            os.close(fd)


class Mapping:
    """The file's bytes: mapped and shared, its descriptor kept open as long as the mapping (for `pread`)."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise SnapshotError(f"{path}: cannot open snapshot: {exc.strerror or exc}") from None
        self.fd = fd
        try:
            st = os.fstat(fd)
            if st.st_size < fmt.HEADER_SIZE:
                raise SnapshotError(f"{path}: truncated: {st.st_size} bytes, shorter than the header")
            self.mm = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        except (OSError, SnapshotError) as exc:
            os.close(fd)
            if isinstance(exc, SnapshotError):
                raise
            raise SnapshotError(f"{path}: cannot open snapshot: {exc.strerror or exc}") from None
        weakref.finalize(self, _close, fd, st.st_dev, st.st_ino)
        self.identity = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
        """What `stat` said of the file when it was mapped: the fallback freshness check compares it."""
        self.view = memoryview(self.mm)
        self.crcs: dict[int, int] = {}
        self.checked: set[int] = set()
        self.sections = self._verify(self.view)
        self.records, records_size = self.sections[fmt.RECORDS]
        self.records_end = self.records + records_size

    def _verify(self, view: memoryview) -> dict[int, tuple[int, int]]:
        """The header's version, schema and checksum, and the section table: section id → (offset, length)."""
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
            self.crcs[sid] = scrc
        missing = [name for s, name in fmt.REQUIRED_SECTIONS.items() if s not in sections]
        if missing:
            raise SnapshotError(f"{self.path}: missing section(s): {', '.join(missing)}")
        self.format_version = f"{header.major}.{header.minor}"
        self.schema_version: int = header.schema
        self.epoch: int = header.epoch
        self.built_at: float = header.built_at
        self.content_hash: str = header.content_hash
        return sections

    def read(self, decoder: msgspec.msgpack.Decoder[Any], data: bytes | memoryview, what: str) -> Any:
        """The one place bytes of the file are decoded: every way they can fail to decode (malformed msgpack, a
        value of the wrong type, invalid UTF-8, nesting too deep) is `SnapshotError` naming the file and part."""
        try:
            return decoder.decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise SnapshotError(f"{self.path}: {what} cannot be decoded: {exc}") from None

    def pread(self, offset: int, length: int) -> bytes:
        """Bytes of the file read with `pread`, not through the mapping: the kernel maps ~64 KiB around every
        page a process first touches, so reading 1,000 scattered records through the mapping made ~80 MiB of a
        large file resident in each process; a read copies just the bytes (page cache still shared).
        Records go through `record`; this checksums sections that lookups only probe."""
        try:
            data = os.pread(self.fd, length, offset)
        except OSError as exc:
            raise SnapshotError(f"{self.path}: cannot read: {exc.strerror or exc}") from None
        if len(data) != length:
            raise SnapshotError(f"{self.path}: truncated: {offset + length} bytes needed, the file has fewer")
        return data

    def record(
        self, ordinal: int, spec: str, start: int, end: int, expected: int | None, data: bytes | memoryview | None
    ) -> Model:
        """Record `ordinal` (`start`..`end` of the records section) as the `Model` the index names `spec`, read
        with `pread` and checked against its checksum `expected` (`data`: a profile's bytes for it instead).

        A checksum mismatch is read again through the mapping before it is blamed on the file: the descriptor may
        no longer be this file's (a process that closed every descriptor, then opened others under the same
        number). Files without per-record checksums (`expected` None) are read through the mapping (their records
        were verified whole at open). A record that does not decode, or holds another spec than the index says at
        its place, is `SnapshotError` (never another model under this name)."""
        start += self.records
        end += self.records
        if not self.records <= start <= end <= self.records_end:
            raise SnapshotError(f"{self.path}: index: record {ordinal} ({spec!r}) runs {start}..{end}, off its section")
        if data is None:
            if expected is None:
                data = self.view[start:end]
            else:
                try:
                    data = os.pread(self.fd, end - start, start)
                except OSError:
                    data = b""
                if zlib.crc32(data) != expected:
                    data = self.view[start:end]
                    if zlib.crc32(data) != expected:
                        raise SnapshotError(
                            f"{self.path}: record {ordinal} ({spec!r}) checksum mismatch (corrupt file)"
                        )
        try:  # `read`, without formatting its message for every record
            model: Model = _MODEL.decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            self.read(_MODEL, data, f"record {ordinal} ({spec!r})")
            raise
        if model.spec != spec:
            raise SnapshotError(f"{self.path}: record {ordinal} holds {model.spec!r} where the index says {spec!r}")
        provider, _, model_id = spec.partition(":")  # the specs read in place are checked here, as they are used
        if not provider or not model_id:
            raise SnapshotError(f"{self.path}: record {ordinal}: spec {spec!r} is not 'provider:model'")
        return model

    def _checksum(self, offset: int, length: int) -> int:
        """crc32 of a part of the file, read in chunks (checking a section does not make it resident)."""
        crc, end = 0, offset + length
        while offset < end:
            chunk = min(end - offset, 1 << 20)
            crc = zlib.crc32(self.pread(offset, chunk), crc)
            offset += chunk
        return crc

    def section(self, sid: int) -> memoryview:
        """A section's bytes, checksummed on first use (the index and provenance are not needed to open a file)."""
        offset, length = self.sections[sid]
        data = self.view[offset : offset + length]
        if sid not in self.checked:
            # Sections decoded whole are checksummed through the mapping (decoding touches every page anyway);
            # the lookup section is probed a few bytes at a time, so it is read, not mapped, to be checksummed.
            crc = self._checksum(offset, length) if sid in _READ_TO_CHECK else zlib.crc32(data)
            if crc != self.crcs[sid]:
                raise SnapshotError(f"{self.path}: {fmt.SECTION_NAMES[sid]} section checksum mismatch (corrupt file)")
            self.checked.add(sid)
        return data

    def unmap_pages(self) -> None:
        """Drop this process's page-table entries for the file (`MADV_DONTNEED`): the pages stay in the page
        cache, shared, and a later read maps them again; resident memory no longer counts the ones touched."""
        with contextlib.suppress(OSError, ValueError, AttributeError):  # closed; no MADV_DONTNEED here
            self.mm.madvise(mmap.MADV_DONTNEED)

    @property
    def superseded(self) -> bool:
        """True once the publisher has replaced this file with a newer one (a memory read, no system call)."""
        return bool(self.mm[fmt.FLAGS_OFFSET] & fmt.SUPERSEDED)
