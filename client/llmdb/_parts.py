"""The index section's fields, each decoded and checked when first used (opening a 1.4 file decodes none; a
filter decodes only the bitsets it needs), and the checks each passes then."""

from __future__ import annotations

import functools
import struct
import typing
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from llmdb._mapping import Mapping
from llmdb.contract import format as fmt
from llmdb.errors import SnapshotError
from llmdb.schema import Provider

if TYPE_CHECKING:
    from llmdb._snapshot import Snapshot

COLUMN_TYPES: dict[str, set[type]] = {
    "context": {int, type(None)},
    "output": {int, type(None)},
    "input_cost": {int, float, type(None)},
    "output_cost": {int, float, type(None)},
    "release_date": {str, type(None)},
    "family": {str, type(None)},
    "base_id": {str, type(None)},
    "identity": {str, type(None)},
    "intelligence": {int, float, type(None)},
    "coding": {int, float, type(None)},
    "agentic": {int, float, type(None)},
    "deprecation_date": {str, type(None)},
    "retirement_date": {str, type(None)},
}
"""What a column's values may be: the queries compare and sort them."""
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


@functools.cache
def _decoder(name: str) -> msgspec.msgpack.Decoder[Any]:
    return msgspec.msgpack.Decoder(typing.get_type_hints(fmt.Index)[name])


class IndexParts:
    """One file's index fields: `raw` (each still encoded, once the section's checksum has passed) and
    `decoded` (those decoded and checked so far)."""

    def __init__(self, file: Mapping, owner: Snapshot) -> None:
        self._file = file
        self._owner = owner
        self.raw: Any = None
        self.decoded: dict[str, Any] = {}
        self.pinned: dict[str, Any] = {}
        """Parts set rather than decoded (a profile's bitsets, denials, exclusions): kept by `shed`."""

    def pin(self, name: str, value: Any) -> None:
        self.decoded[name] = self.pinned[name] = value

    def shed(self) -> None:
        """Forget what was decoded (it is decoded again if asked for), keeping what was pinned."""
        self.raw = None
        self.decoded.clear()
        self.decoded.update(self.pinned)

    def raw_part(self, name: str) -> Any:
        """Index field `name`, decoded but not yet checked (the index section's checksum verified first)."""
        raw = self.raw
        if raw is None:
            raw = self.raw = self._file.read(_RAW_INDEX, self._file.section(fmt.INDEX), "index section")
        encoded = getattr(raw, name)
        if not encoded:
            return _INDEX_DEFAULTS[name]  # a field newer than this file
        return self._file.read(_decoder(name), encoded, f"index field {name!r}")

    def part(self, name: str, decoded: Any = _UNSET) -> Any:
        """Index field `name`, decoded (unless given `decoded`) and checked on first use."""
        found = self.decoded.get(name, _UNSET)
        if found is _UNSET:
            found = self.raw_part(name) if decoded is _UNSET else decoded
            check = CHECKS.get(name)
            if check is not None:
                problem = check(self._owner, found)
                if problem:
                    raise SnapshotError(f"{self._file.path}: index: {problem}")
            self.decoded[name] = found
        return found


class IndexFields:
    """The index's fields as a snapshot answers them (`Snapshot` is one): each decoded and checked on first use."""

    index: IndexParts
    model_count: int
    _providers: dict[str, Provider] | None

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

    def provider_range(self, pid: str) -> tuple[int, int]:
        """The ordinals `[start, end)` of provider `pid`'s models ((0, 0) for none)."""
        ranges: dict[str, tuple[int, int]] = self.index.part("provider_ranges")
        return ranges.get(pid, (0, 0))

    def specs_of_provider(self, pid: str) -> Sequence[str]:
        start, end = self.provider_range(pid)
        return self.specs[start:end]

    def provider_bits(self, pid: str) -> int:
        """The bitset of one provider's models: a contiguous run of ordinals."""
        start, end = self.provider_range(pid)
        return ((1 << (end - start)) - 1) << start


def spec_fault(spec: str) -> str | None:
    """Why `spec` is not a spec (`provider:model`, neither part empty, as `schema.make_spec` writes one), or None:
    name resolution splits every spec on its first `:`."""
    provider, _, model_id = spec.partition(":")
    return None if provider and model_id else f"spec {spec!r} is not 'provider:model'"


def _specs(snap: Snapshot, specs: list[str]) -> str | None:
    n = snap.model_count
    if len(specs) != n:
        return f"{len(specs)} specs, the lookup section has {n}"
    unique = snap.lookup.distinct(specs)
    if unique != n:
        return f"{n - unique} duplicate spec(s)"
    if sorted(specs) != specs:  # ~0.1 ms for 9,000 specs; provider ranges and the miss check rely on it
        return "specs are not sorted"
    for spec in specs:  # ~0.8 ms for 9,000 specs
        provider, _, model_id = spec.partition(":")
        if not provider or not model_id:
            return spec_fault(spec)
    return snap.lookup.specs_problem(specs)


def _offsets(snap: Snapshot, offsets: bytes) -> str | None:
    n, records = snap.model_count, snap.file.sections[fmt.RECORDS][1]
    if len(offsets) != 8 * (n + 1):
        return f"{len(offsets)} bytes of record offsets for {n} specs (expected {8 * (n + 1)})"
    first, last = struct.unpack_from("<Q", offsets)[0], struct.unpack_from("<Q", offsets, 8 * n)[0]
    if first != 0 or last > records:
        return f"record offsets run {first}..{last}, the records section has {records} bytes"
    return snap.lookup.offsets_problem(offsets)


def _record_crcs(snap: Snapshot, crcs: bytes) -> str | None:
    n = snap.model_count
    if crcs and len(crcs) != 4 * n:
        return f"{len(crcs)} bytes of record checksums for {n} specs (expected {4 * n})"
    return snap.lookup.crcs_problem(crcs)


def _ranges(snap: Snapshot, ranges: dict[str, tuple[int, int]]) -> str | None:
    n, specs = snap.model_count, snap.specs
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


def _bitsets(snap: Snapshot, bitsets: dict[str, bytes]) -> str | None:
    n = snap.model_count
    width, spare = (n + 7) // 8, n % 8
    for name, raw in bitsets.items():
        if len(raw) > width:
            return f"bitset {name!r} has {len(raw)} bytes, more than {n} models need ({width})"
        if spare and len(raw) == width and raw[-1] >> spare:
            return f"bitset {name!r} has bits past the last of {n} models"
    return None


def _columns(snap: Snapshot, columns: dict[str, list[Any]]) -> str | None:
    for name, values in columns.items():
        if len(values) != snap.model_count:
            return f"column {name!r} has {len(values)} values for {snap.model_count} specs"
    return None


def _profiles(snap: Snapshot, profiles: dict[str, fmt.ProfileIndex]) -> str | None:
    """Every profile, whichever a reader is opened with: the specs it names are the file's, its bitsets fit
    the models and leave out the models it excludes, its column values have their column's types. (Its
    records are checked when first decoded, as the base's are.)"""
    for name, profile in profiles.items():
        problem = _bitsets(snap, profile.bitsets)
        if problem:
            return f"profile {name!r}: {problem}"
        excluded = 0
        for spec in (*profile.records, *profile.excluded):
            ordinal = snap.probe(spec)
            if ordinal is None:
                return f"profile {name!r} names {spec!r}, which the file does not have"
            if spec in profile.excluded:
                excluded |= 1 << ordinal
        served = next((k for k, raw in profile.bitsets.items() if int.from_bytes(raw, "little") & excluded), None)
        if served is not None:
            return f"profile {name!r}: bitset {served!r} holds a model the profile excludes"
        for column, values in profile.columns.items():
            allowed = COLUMN_TYPES.get(column)
            for spec, value in values.items():
                if snap.probe(spec) is None:
                    return f"profile {name!r} column {column!r} names {spec!r}, which the file does not have"
                if allowed is not None and type(value) not in allowed:
                    return f"profile {name!r} column {column!r} holds {value!r} for {spec!r}"
    return None


CHECKS: dict[str, Callable[[Snapshot, Any], str | None]] = {
    "specs": _specs,
    "offsets": _offsets,
    "record_crcs": _record_crcs,
    "provider_ranges": _ranges,
    "bitsets": _bitsets,
    "columns": _columns,
    "profiles": _profiles,
}
"""Index field → the check it passes when first decoded (None: fine, else what is wrong)."""
