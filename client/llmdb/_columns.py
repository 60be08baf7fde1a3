"""A file's bitsets and columns as the profile it is read as sees them: what filters and orderings read without
decoding a record. Each bitset becomes an int once; each column's value types are checked on its first use and
the profile's values patched in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from llmdb._parts import COLUMN_TYPES
from llmdb.contract.format import DATE_COLUMNS
from llmdb.errors import SnapshotError

if TYPE_CHECKING:
    from llmdb._snapshot import Snapshot


def iter_ordinals(bits: int) -> Iterator[int]:
    """The set bits' positions, ascending."""
    text = format(bits, "b")[::-1]
    i = text.find("1")
    while i >= 0:
        yield i
        i = text.find("1", i + 1)


class Columns:
    """One snapshot's bitsets and columns; `patches` (a profile's column values by spec) apply to columns."""

    def __init__(self, snap: Snapshot) -> None:
        self._snap = snap
        self._bits: dict[str, int] = {}
        self._checked: set[str] = set()
        self._patched: dict[str, list[Any]] = {}
        self._dated: dict[str, list[tuple[int, str]]] = {}
        """`DATE_COLUMNS` as (ordinal, date) pairs, checked (`dated`)."""
        self._dense: dict[str, list[Any]] = {}
        """`DATE_COLUMNS` as per-ordinal columns, made when a column of them is asked for."""
        self.patches: dict[str, dict[str, Any]] = {}

    def shed(self) -> None:
        self._bits.clear()
        self._checked.clear()
        self._patched.clear()
        self._dated.clear()
        self._dense.clear()

    def bits(self, name: str) -> int:
        """The bitset `name` (a feature, `status:beta`, `input:image`, `allowed`...); 0 for a modality no model has."""
        found = self._bits.get(name)
        if found is None:
            bitsets: dict[str, bytes] = self._snap.index.part("bitsets")
            raw = bitsets.get(name)
            found = self._bits[name] = int.from_bytes(raw, "little") if raw is not None else 0
        return found

    def modes(self) -> list[str]:
        """The modes some model of this file has (`chat`, `embedding`, ...)."""
        return sorted(k[5:] for k in self._snap.index.part("bitsets") if k.startswith("mode:"))

    def dated(self, name: str, *, patched: bool = True) -> list[tuple[int, str]]:
        """(ordinal, date) of every model that has date column `name` (`DATE_COLUMNS`), checked once (a pair
        that is not an ordinal of this file and a date is `SnapshotError`); as the profile sees it."""
        if patched and self.patches.get(name):
            return [(i, v) for i, v in enumerate(self.column(name)) if v is not None]
        found = self._dated.get(name)
        if found is None:
            snap = self._snap
            pairs: Any = snap.index.part("dates").get(name, [])
            count = snap.model_count
            for pair in pairs:
                if not (
                    isinstance(pair, (list, tuple))
                    and len(pair) == 2
                    and type(pair[0]) is int
                    and 0 <= pair[0] < count
                    and type(pair[1]) is str
                ):
                    raise SnapshotError(f"{snap.path}: index: dates {name!r} holds {pair!r} (expected [ordinal, date])")
            found = self._dated[name] = [(i, v) for i, v in pairs]
        return found

    def column(self, name: str) -> list[Any]:
        """Per-ordinal values of one of `contract.COLUMNS` (`context`, `input_cost`, `intelligence`, ...); each
        column's value types are checked on its first use (`SnapshotError` naming the value)."""
        snap = self._snap
        if name in DATE_COLUMNS:
            found: list[Any] | None = self._dense.get(name)
            if found is None:
                found = self._dense[name] = [None] * snap.model_count
                for ordinal, date in self.dated(name, patched=False):
                    found[ordinal] = date
        else:
            found = snap.index.part("columns").get(name)
        if found is None:
            return [None] * snap.model_count  # a column newer than this file
        if name not in self._checked:
            allowed = COLUMN_TYPES.get(name)
            if allowed is not None and not set(map(type, found)) <= allowed:
                ordinal, value = next((i, v) for i, v in enumerate(found) if type(v) not in allowed)
                raise SnapshotError(
                    f"{snap.path}: index: column {name!r} holds {value!r} for {snap.specs[ordinal]!r}"
                    f" (expected {' or '.join(sorted(t.__name__ for t in allowed))})"
                )
            self._checked.add(name)
            patch = self.patches.get(name)
            if patch:
                found = list(found)
                for spec, value in patch.items():
                    at = snap.probe(spec)
                    if at is not None:  # the index's check found every one
                        found[at] = value
                self._patched[name] = found
        return self._patched.get(name, found)
