"""Reading one snapshot file: `Snapshot` answers from one verified read-only mapping (`_mapping`), through its
lookup section or its older index (`_lookup`), the index parts it decodes and checks on first use (`_parts`),
as the profile it is read as. Following a path as new files are published there is `_freshness`'s.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec

from llmdb import contract as fmt
from llmdb._lookup import FromIndex, InPlace, as_array
from llmdb._mapping import Mapping
from llmdb._parts import COLUMN_TYPES, IndexParts, spec_fault
from llmdb.errors import SnapshotError, UnknownProfile
from llmdb.schema import BuildReport, Model, Provenance, Provider

_MODEL = msgspec.msgpack.Decoder(Model)
_PROVENANCE = msgspec.msgpack.Decoder(fmt.ProvenanceTable)
_REPORT = msgspec.msgpack.Decoder(BuildReport)


class Snapshot:
    """One snapshot file mapped read-only and shared, verified once; records decode lazily and are cached."""

    def __init__(self, path: str | os.PathLike[str], profile: str | None = None) -> None:
        """`profile`: read the file as that profile sees it (`UnknownProfile` naming the file's profiles)."""
        self.path = Path(path)
        self.file = file = Mapping(self.path)
        self.identity = file.identity
        self.format_version, self.schema_version, self.epoch = file.format_version, file.schema_version, file.epoch
        self.built_at, self.content_hash = file.built_at, file.content_hash
        self.index = IndexParts(file, self)
        self.lookup: InPlace | FromIndex
        self._cache: dict[str, Model] = {}
        self._checked_columns: set[str] = set()
        self._column_patched: dict[str, list[Any]] = {}
        self._bits: dict[str, int] = {}
        self._provenance: fmt.ProvenanceTable | None = None
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
        self._column_patches: dict[str, dict[str, Any]] = {}
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
        decoded = self.index.decoded
        decoded["bitsets"] = found.bitsets
        decoded["denied"] = found.denied
        decoded["excluded"] = {**self.excluded, **found.excluded}
        self._hidden, self._overridden, self._column_patches = found.excluded, found.records, found.columns

    @property
    def hidden(self) -> dict[str, str]:
        """The specs this file has that the profile it is read as excludes (with why); empty without one."""
        return self._hidden

    @property
    def profiles(self) -> dict[str, fmt.ProfileIndex]:
        """The profiles compiled into this file, by name."""
        profiles: dict[str, fmt.ProfileIndex] = self.index.part("profiles")
        return profiles

    @property
    def specs(self) -> list[str]:
        """All specs in ordinal order (decodes that part of the index once)."""
        specs: list[str] = self.index.part("specs")
        return specs

    def verify(self) -> None:
        """Every check a reader makes when it first needs a part, made now: each index field, each column's
        values, every record, the provenance and the report (for a daemon about to use or republish a file)."""
        for name in fmt.Index.__struct_fields__:
            self.index.part(name)
        for name in fmt.COLUMNS:
            self.column(name)
        for ordinal in range(self.model_count):
            spec = self.spec_at(ordinal)
            if self.lookup.confirms_misses and spec not in self._hidden and self.ordinal(spec) != ordinal:
                raise SnapshotError(f"{self.path}: lookup section: {spec!r} is not found at its place")
            if spec not in self._cache:  # a cached record passed these checks when it was decoded
                self._decode(ordinal, keep=False)
        table = self.provenance_table()
        for ordinal, fields in enumerate(table.models):
            self._expand(fields, self.spec_at(ordinal))
        for pid, fields in table.providers.items():
            self._expand(fields, f"provider {pid}")
        self.report()

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
            model = self._decode(ordinal)
        return model

    def model_at(self, ordinal: int) -> Model:
        model = self._cache.get(self.spec_at(ordinal))
        return model if model is not None else self._decode(ordinal)

    def _decode(self, ordinal: int, *, keep: bool = True) -> Model:
        """Record `ordinal` as a `Model`; a record that does not decode, or names another spec than the index
        does at its place, is `SnapshotError` (never another model under this name)."""
        spec = self.spec_at(ordinal)
        file, lookup = self.file, self.lookup
        start = file.records + lookup.offsets[ordinal]
        end = file.records + lookup.offsets[ordinal + 1]
        if not file.records <= start <= end <= file.records_end:
            raise SnapshotError(f"{self.path}: index: record {ordinal} ({spec!r}) runs {start}..{end}, off its section")
        data: bytes | memoryview | None = self._overridden.get(spec) if self._overridden else None
        if data is None:
            crcs = lookup.record_crcs
            data = file.record_bytes(ordinal, start, end, crcs[ordinal] if crcs else None, self.spec_at)
        model: Model = file.read(_MODEL, data, f"record {ordinal} ({spec!r})")
        if model.spec != spec:
            raise SnapshotError(f"{self.path}: record {ordinal} holds {model.spec!r} where the index says {spec!r}")
        fault = spec_fault(spec)  # the specs a listing reads in place are not otherwise checked
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

    @property
    def model_aliases(self) -> dict[str, str]:
        """Alias spec (`openai:gpt4o`) → the spec it stands for."""
        aliases: dict[str, str] = self.index.part("model_aliases")
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
        denied: dict[str, str] = self.index.part("denied")
        return denied

    @property
    def names(self) -> dict[str, str]:
        """Other catalogs' names (LiteLLM's keys) → spec."""
        names: dict[str, str] = self.index.part("names")
        return names

    @property
    def excluded(self) -> dict[str, str]:
        """Spec → the exclude (and its file) that removed it from the catalog: such specs have no record."""
        excluded: dict[str, str] = self.index.part("excluded")
        return excluded

    # -- providers -----------------------------------------------------------------------------------------

    @property
    def providers(self) -> list[Provider]:
        providers: list[Provider] = self.index.part("providers")
        return providers

    def provider(self, pid: str) -> Provider | None:
        found = self._providers
        if found is None:
            found = self._providers = {p.id: p for p in self.providers}
        return found.get(pid)

    @property
    def provider_alias_map(self) -> dict[str, str]:
        """Every canonical provider id and alias → canonical id."""
        aliases: dict[str, str] = self.index.part("provider_aliases")
        return aliases

    def _range(self, pid: str) -> tuple[int, int]:
        ranges: dict[str, tuple[int, int]] = self.index.part("provider_ranges")
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
            bitsets: dict[str, bytes] = self.index.part("bitsets")
            raw = bitsets.get(name)
            found = self._bits[name] = int.from_bytes(raw, "little") if raw is not None else 0
        return found

    @property
    def modes(self) -> list[str]:
        """The modes some model of this file has (`chat`, `embedding`, ...)."""
        return sorted(k[5:] for k in self.index.part("bitsets") if k.startswith("mode:"))

    def column(self, name: str) -> list[Any]:
        """Per-ordinal values (`context`, `output`, `input_cost`, `output_cost`, `release_date`, `family`,
        `base_id`); each column's value types are checked on its first use (`SnapshotError` naming the value)."""
        columns: dict[str, list[Any]] = self.index.part("columns")
        found = columns.get(name)
        if found is None:
            return [None] * self.model_count  # a column newer than this file
        if name not in self._checked_columns:
            allowed = COLUMN_TYPES.get(name)
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
                    at = self.probe(spec)
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
            table = self.file.read(_PROVENANCE, self.file.section(fmt.PROVENANCE), "provenance section")
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
        report: BuildReport = self.file.read(_REPORT, self.file.section(fmt.REPORT), "report section")
        return report
