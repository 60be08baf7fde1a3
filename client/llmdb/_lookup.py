"""A spec's ordinal and an ordinal's spec, and each record's offset and checksum: format 1.4's LOOKUP section
read in place (`InPlace`), or the index's own lists in older files (`FromIndex`). The reader asks this one
interface; which generation a file is stays here."""

from __future__ import annotations

import sys
from array import array
from typing import Any, Literal

from llmdb._mapping import Mapping
from llmdb.contract import format as fmt
from llmdb.errors import SnapshotError


def as_array(data: memoryview, code: Literal["Q", "I"]) -> Any:
    """Little-endian unsigned integers read in place (a copy, byte-swapped, on a big-endian machine)."""
    if sys.byteorder == "little":
        return data.cast(code)
    values = array(code, data.tobytes())
    values.byteswap()
    return values


def little(values: Any) -> bytes:
    """Integers as the file stores them (little-endian)."""
    if sys.byteorder == "little":
        return bytes(values.tobytes())
    swapped = array(values.format if isinstance(values, memoryview) else values.typecode, values.tobytes())
    swapped.byteswap()
    return swapped.tobytes()


class InPlace:
    """Format 1.4: exact lookups probe the LOOKUP section's hash slots where it lies; opening makes only
    constant-time checks (the section's checksum aside), so it does not grow with the file."""

    confirms_misses = True
    """A miss may be a corrupt hash table: the reader confirms it against the sorted specs."""

    def __init__(self, file: Mapping) -> None:
        data = file.section(fmt.LOOKUP)
        size = len(data)

        def bad(what: str) -> SnapshotError:
            return SnapshotError(f"{file.path}: lookup section: {what}")

        if size < fmt.LOOKUP_HEAD.size:
            raise bad(f"{size} bytes, shorter than its head")
        n, slots = fmt.LOOKUP_HEAD.unpack_from(data)
        if slots <= n or slots & (slots - 1):
            raise bad(f"{slots} hash slots for {n} models (expected a power of two above {n})")
        offsets, crcs, starts, table, text = fmt.lookup_layout(n, slots)
        if text > size:
            raise bad(f"{size} bytes, too short for {n} models and {slots} slots")
        self.path = file.path
        self.offsets: Any = as_array(data[offsets:crcs], "Q")
        self.record_crcs: Any = as_array(data[crcs:starts], "I")
        self._starts = as_array(data[starts:table], "I")
        self._slots = as_array(data[table:text], "I")
        self._text = data[text:]
        if self._starts[0] != 0 or self._starts[n] != size - text:
            raise bad(f"spec text runs {self._starts[0]}..{self._starts[n]}, it has {size - text} bytes")
        if self.offsets[0] != 0 or self.offsets[n] > file.sections[fmt.RECORDS][1]:
            raise bad(f"record offsets run {self.offsets[0]}..{self.offsets[n]} past the records section")
        self.model_count: int = n

    def probe(self, spec: str) -> int | None:
        """The ordinal of exactly `spec`, from the hash slots; None when the table has no such spec."""
        try:
            key = spec.encode()
        except UnicodeEncodeError:
            return None  # lone surrogates: no spec has them
        slots, starts, text, n = self._slots, self._starts, self._text, self.model_count
        mask = len(slots) - 1
        slot = fmt.spec_hash(key) & mask
        for _ in range(len(slots)):  # a table without an empty slot (a corrupt one) still ends
            found: int = slots[slot]
            if not found:
                break
            if found <= n and text[starts[found - 1] : starts[found]] == key:
                return found - 1  # a hit needs no check: the record found is checked against its spec
            slot = (slot + 1) & mask
        return None

    def spec_at(self, ordinal: int) -> str:
        if not 0 <= ordinal < self.model_count:
            raise IndexError(ordinal)
        try:
            return str(self._text[self._starts[ordinal] : self._starts[ordinal + 1]], "utf-8")
        except UnicodeDecodeError:
            raise SnapshotError(f"{self.path}: lookup section: spec {ordinal} is not UTF-8") from None

    def distinct(self, specs: list[str]) -> int:
        return len(set(specs))

    def specs_problem(self, specs: list[str]) -> str | None:
        """Whether the index's specs are the ones this section holds, in the same places."""
        encoded = [s.encode() for s in specs]
        text = bytes(self._text)  # compared as bytes: a memoryview compares item by item, 40 times slower
        if text != b"".join(encoded) or little(self._starts) != little(fmt.spec_starts(encoded)):
            return "specs differ from the lookup section's"
        return None

    def offsets_problem(self, offsets: bytes) -> str | None:
        return "record offsets differ from the lookup section's" if offsets != little(self.offsets) else None

    def crcs_problem(self, crcs: bytes) -> str | None:
        return "record checksums differ from the lookup section's" if crcs != little(self.record_crcs) else None


class FromIndex:
    """A file before 1.4: the specs, record offsets and checksums are the index's, decoded at open."""

    confirms_misses = False
    """The specs are a dict here: a miss is a miss."""

    def __init__(self, specs: list[str]) -> None:
        self._specs = specs
        self.model_count = len(specs)
        self._ordinals = {spec: i for i, spec in enumerate(specs)}
        self.offsets: Any = None
        self.record_crcs: Any = None
        """Set from the index once its parts are checked (`Snapshot`)."""

    def probe(self, spec: str) -> int | None:
        return self._ordinals.get(spec)

    def spec_at(self, ordinal: int) -> str:
        return self._specs[ordinal]

    def distinct(self, specs: list[str]) -> int:
        return len(self._ordinals)

    def specs_problem(self, specs: list[str]) -> str | None:
        return None  # the index is the only list

    def offsets_problem(self, offsets: bytes) -> str | None:
        return None

    def crcs_problem(self, crcs: bytes) -> str | None:
        return None
