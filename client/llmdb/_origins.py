"""Where each field's value came from, and the build's report: the sections a reader decodes only when asked
(`explain`, `llmdb info`, `verify`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from llmdb.contract import format as fmt
from llmdb.errors import SnapshotError
from llmdb.schema import BuildReport, Provenance

if TYPE_CHECKING:
    from llmdb._snapshot import Snapshot

_PROVENANCE = msgspec.msgpack.Decoder(fmt.ProvenanceTable)
_REPORT = msgspec.msgpack.Decoder(BuildReport)


class Origins:
    """One snapshot's provenance table (decoded and checked once) and report."""

    def __init__(self, snap: Snapshot) -> None:
        self._snap = snap
        self._table: fmt.ProvenanceTable | None = None

    def shed(self) -> None:
        self._table = None

    def table(self) -> fmt.ProvenanceTable:
        table = self._table
        if table is None:
            file, n = self._snap.file, self._snap.model_count
            table = file.read(_PROVENANCE, file.section(fmt.PROVENANCE), "provenance section")
            if len(table.models) != n:
                raise SnapshotError(f"{file.path}: provenance section: {len(table.models)} models for {n} specs")
            self._table = table
        return table

    def expand(self, fields: Any, whose: str) -> dict[str, Provenance]:
        """Stored field sources → `Provenance` values; a malformed one is `SnapshotError` naming whose it is."""
        try:
            return fmt.expand(self.table().sources, fields)
        except (IndexError, KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(f"{self._snap.path}: provenance of {whose} is malformed: {exc!r}") from None

    def report(self) -> BuildReport:
        file = self._snap.file
        report: BuildReport = file.read(_REPORT, file.section(fmt.REPORT), "report section")
        return report
