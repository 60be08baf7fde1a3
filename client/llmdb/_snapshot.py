"""Reading one snapshot file: `Snapshot` answers from one verified read-only mapping (`_mapping`), through its
lookup section or its older index (`_lookup`), the index parts it decodes and checks on first use (`_parts`),
as the profile it is read as. Following a path as new files are published there is `_freshness`'s.
"""

from __future__ import annotations

import bisect
import os
from typing import TYPE_CHECKING, Any

import msgspec

from llmdb._columns import Columns, iter_ordinals
from llmdb._lookup import FromIndex, InPlace, as_array
from llmdb._mapping import Mapping
from llmdb._origins import Origins
from llmdb._parts import IndexFields, IndexParts
from llmdb.contract import format as fmt
from llmdb.errors import SnapshotError, UnknownProfile
from llmdb.schema import BuildReport, Model, Provenance, Provider

if TYPE_CHECKING:
    from pathlib import Path

_PROVENANCE = msgspec.msgpack.Decoder(fmt.ProvenanceTable)
_REPORT = msgspec.msgpack.Decoder(BuildReport)


class Snapshot(IndexFields):
    """One snapshot file mapped read-only and shared, verified once; records decode lazily and are cached."""

    def __init__(self, path: str | os.PathLike[str], profile: str | None = None) -> None:
        """`profile`: read the file as that profile sees it (`UnknownProfile` naming the file's profiles)."""
        self.location = os.fspath(path)
        """The file's path as given (a string: pathlib is not imported on the way to a first lookup)."""
        self.file = file = Mapping(self.location)
        self.identity = file.identity
        self.format_version, self.schema_version, self.epoch = file.format_version, file.schema_version, file.epoch
        self.built_at, self.content_hash = file.built_at, file.content_hash
        self.index = IndexParts(file, self)
        self.lookup: InPlace | FromIndex
        self.columns = Columns(self)
        self.origins = Origins(self)
        self._cache: dict[str, Model] = {}
        self._providers: dict[str, Provider] | None = None
        if fmt.LOOKUP in file.sections:
            self.lookup = InPlace(file)
            self.model_count: int = self.lookup.model_count
        else:
            self._open_without_lookup()
        self.all_bits = (1 << self.model_count) - 1
        self.profile = profile
        self._hidden: dict[str, str] = {}
        """Specs the profile excludes: not found under it (empty without a profile: one truth test per lookup)."""
        self._overridden: dict[str, bytes] = {}
        if profile is not None:
            self._apply_profile(profile)

    def _open_without_lookup(self) -> None:
        """A file before 1.4: its specs, record offsets and checksums come from the index, decoded at open."""
        specs = self.index.raw_part("specs")
        self.lookup = lookup = FromIndex(specs)
        self.model_count = lookup.model_count
        self.index.part("specs", specs)
        lookup.offsets = as_array(memoryview(self.index.part("offsets")), "Q")
        lookup.record_crcs = as_array(memoryview(self.index.part("record_crcs")), "I")
        if not lookup.record_crcs:
            self.file.section(fmt.RECORDS)  # before 1.3: verify every record now, as readers of it always did

    def _apply_profile(self, name: str) -> None:
        """Answer as profile `name` does: its bitsets, denials, exclusions, overridden records and columns."""
        found = self.profiles.get(name)  # each profile checked with the part
        if found is None:
            have = ", ".join(sorted(self.profiles)) or "none"
            raise UnknownProfile(f"{self.path}: no profile {name!r} (the file's profiles: {have})")
        self.index.pin("bitsets", found.bitsets)
        self.index.pin("denied", found.denied)
        self.index.pin("excluded", {**self.excluded, **found.excluded})
        self._hidden, self._overridden, self.columns.patches = found.excluded, found.records, found.columns

    @property
    def path(self) -> Path:
        from pathlib import Path

        return Path(self.location)

    @property
    def hidden(self) -> dict[str, str]:
        """The specs this file has that the profile it is read as excludes (with why); empty without one."""
        return self._hidden

    def verify(self) -> None:
        """Every check a reader makes when it first needs a part, made now: each index field, each column's
        values, every record, the provenance and the report (for a daemon about to use or republish a file)."""
        for name in fmt.Index.__struct_fields__:
            self.index.part(name)
        from llmdb.contract.columns import COLUMNS

        for name in COLUMNS:
            self.column(name)
        for ordinal in range(self.model_count):
            spec = self.spec_at(ordinal)
            if self.lookup.confirms_misses and spec not in self._hidden and self.ordinal(spec) != ordinal:
                raise SnapshotError(f"{self.path}: lookup section: {spec!r} is not found at its place")
            if spec not in self._cache:  # a cached record passed these checks when it was decoded
                self._decode(ordinal, spec, keep=False)
        table = self.origins.table()
        for ordinal, fields in enumerate(table.models):
            self.origins.expand(fields, self.spec_at(ordinal))
        for pid, fields in table.providers.items():
            self.origins.expand(fields, f"provider {pid}")
        self.origins.report()

    def shed(self) -> None:
        """Forget every record, index part, column and table decoded from this file and the pages of it touched,
        keeping the mapping and the profile read: a handle keeps the mapping it served before only to fall back
        to (decoding again if it does), so a publish does not leave each reader holding two catalogs."""
        self._cache.clear()
        self._providers = None
        self.index.shed()
        self.columns.shed()
        self.origins.shed()
        self.file.unmap_pages()

    @property
    def superseded(self) -> bool:
        """True once the publisher has replaced this file with a newer one (a memory read, no system call)."""
        return self.file.superseded

    # -- models --------------------------------------------------------------------------------------------

    def model(self, spec: str) -> Model | None:
        """The model with exactly this spec, decoded on first use and cached for the life of the mapping."""
        model = self._cache.get(spec)
        if model is None:
            ordinal = self.ordinal(spec)
            if ordinal is None:
                return None
            model = self._decode(ordinal, spec)
        return model

    def model_at(self, ordinal: int) -> Model:
        spec = self.spec_at(ordinal)
        model = self._cache.get(spec)
        return model if model is not None else self._decode(ordinal, spec)

    def _decode(self, ordinal: int, spec: str, *, keep: bool = True) -> Model:
        """Record `ordinal`, which the index says is `spec`, as a `Model` (`Mapping.record` checks it)."""
        lookup = self.lookup
        crcs = lookup.record_crcs
        data = self._overridden.get(spec) if self._overridden else None
        offsets = lookup.offsets
        model = self.file.record(
            ordinal, spec, offsets[ordinal], offsets[ordinal + 1], crcs[ordinal] if crcs else None, data
        )
        # Two threads may decode the same record at once; both results are equal, either may stay cached.
        if keep:
            self._cache[spec] = model
        return model

    def ordinal(self, spec: str) -> int | None:
        """The ordinal of exactly `spec`: a probe of the LOOKUP section's hash slots (format 1.4), read in place.
        None for a spec the profile read excludes."""
        if self._hidden and spec in self._hidden:
            return None
        return self.probe(spec)

    def probe(self, spec: str) -> int | None:
        """`ordinal` whatever the profile hides. A miss of the hash table is confirmed against the sorted specs
        (decoded on the first miss, as resolving the name goes on to do anyway): a table that misses a spec the
        file has is corrupt, `SnapshotError`."""
        found = self.lookup.probe(spec)
        if found is None and self.lookup.confirms_misses:
            specs = self.specs
            at = bisect.bisect_left(specs, spec)
            if at < len(specs) and specs[at] == spec:
                raise SnapshotError(f"{self.path}: lookup section: {spec!r} is not in its hash table")
        return found

    def spec_at(self, ordinal: int) -> str:
        return self.lookup.spec_at(ordinal)

    # -- bitsets and columns -------------------------------------------------------------------------------

    def bits(self, name: str) -> int:
        """The bitset `name` (a feature, `status:beta`, `input:image`, `allowed`...); 0 for a modality no model has."""
        return self.columns.bits(name)

    @property
    def modes(self) -> list[str]:
        """The modes some model of this file has (`chat`, `embedding`, ...)."""
        return self.columns.modes()

    def column(self, name: str) -> list[Any]:
        """Per-ordinal values of a column (`contract.COLUMNS`: `context`, `input_cost`, ...), as the profile sees."""
        return self.columns.column(name)

    iter_ordinals = staticmethod(iter_ordinals)

    # -- provenance and report (decoded only when asked for) ---------------------------------------------

    def provenance_table(self) -> fmt.ProvenanceTable:
        return self.origins.table()

    def provenance(self, spec: str) -> dict[str, Provenance]:
        ordinal = self.ordinal(spec)
        if ordinal is None:
            return {}
        return self.origins.expand(self.origins.table().models[ordinal], spec)

    def provider_provenance(self, pid: str) -> dict[str, Provenance]:
        return self.origins.expand(self.origins.table().providers.get(pid, {}), f"provider {pid}")

    def report(self) -> BuildReport:
        return self.origins.report()
