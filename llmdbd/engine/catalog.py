"""The engine's result: the effective catalog, its provenance and build report, and its content hash."""

from __future__ import annotations

import hashlib
from typing import Any

from msgspec import Struct

from llmdb.contract import expand
from llmdb.schema import SCHEMA_VERSION, BuildReport, Model, Provenance, Provider, SourceInfo
from llmdbd.engine.merge import FieldSource
from llmdbd.engine.records import ENCODER, Record


class CompiledProfile(Struct, frozen=True, kw_only=True):
    """One profile as its differences from the base catalog."""

    definition: dict[str, Any]
    denied: dict[str, str]
    """The base's denials and the profile's own, for the models in the file."""
    excluded: dict[str, str]
    """Base models the profile removes."""
    models: dict[str, Model]
    """The models its overrides change (only those), by spec."""
    records: dict[str, Record]
    digest: str


class BuiltCatalog(Struct, frozen=True, kw_only=True):
    """Everything a publisher needs; dicts are ordered by key so iteration is deterministic."""

    providers: dict[str, Provider]
    """Canonical provider id → provider."""
    models: dict[str, Model]
    """Spec (`provider:id`) → model, including models denied by the allow/deny rules."""
    records: list[Record]
    """What the snapshot holds of each model, in the order of `models`."""
    model_aliases: dict[str, str]
    """Alias spec (`provider:alias`) → spec of the model it names."""
    denied: dict[str, str]
    """Spec → the allow/deny rule that denies it; every other model is allowed."""
    excluded: dict[str, str]
    """Spec → the exclude (and its file) that removed the model: it is not in `models`."""
    sources: tuple[SourceInfo, ...]
    """`enrich` (index 0: its provenance stays valid whatever the number of layers), then every layer."""
    model_sources: dict[str, dict[str, FieldSource]]
    """Spec → field path (`cost.input`) → where its value came from, compactly (see `provenance`)."""
    provider_sources: dict[str, dict[str, FieldSource]]
    report: BuildReport
    content_hash: str
    profiles: dict[str, CompiledProfile] = {}
    """Profile name → what it changes (empty without `[profiles]`; `engine.profiles`)."""

    def provenance(self, spec: str) -> dict[str, Provenance]:
        """Field path → `Provenance` for one model."""
        return expand(self.sources, self.model_sources.get(spec, {}))

    def provider_provenance(self, pid: str) -> dict[str, Provenance]:
        return expand(self.sources, self.provider_sources.get(pid, {}))

    def provider_aliases(self) -> dict[str, str]:
        """Every id a provider answers to (its upstream ids too) → canonical id."""
        out: dict[str, str] = {}
        for pid, p in self.providers.items():
            out[pid] = pid
            for alias in p.aliases:
                out.setdefault(alias, pid)
        return out

    def names(self) -> dict[str, str]:
        """Every other catalog's name for a model (`Model.names`) → its spec; of two models claiming one name,
        the first by spec keeps it."""
        out: dict[str, str] = {}
        for spec, model in self.models.items():
            for name in model.names:
                out.setdefault(name, spec)
        return out


def content_hash(
    providers: dict[str, Provider],
    records: list[Record],
    model_aliases: dict[str, str],
    denied: dict[str, str],
    excluded: dict[str, str],
) -> str:
    """sha256 of a canonical encoding of the effective catalog (with the specs clients are told are excluded):
    no timestamps, no provenance, sorted keys. The models enter as the sha256 of each one's record (`records`,
    in spec order), so a one-model change rehashes one record and ~32 bytes per model."""
    body = ENCODER.encode(
        (
            SCHEMA_VERSION,
            sorted(providers.values(), key=lambda p: p.id),
            [r.digest for r in records],
            sorted(model_aliases.items()),
            sorted(denied.items()),
            sorted(excluded),  # which models; not the reason's text, which names files wherever they are
        )
    )
    return hashlib.sha256(body).hexdigest()


def changes(before: BuiltCatalog | None, after: BuiltCatalog, *, examples: int = 5) -> dict[str, object]:
    """What differs from `before` to `after`: sources added, removed or changed (by file or name), and
    models added, removed or changed (a changed record or allow/deny state), with the first few specs of each."""
    old_sources = {s.file or s.name: s.version for s in before.report.sources} if before is not None else {}
    new_sources = {s.file or s.name: s.version for s in after.report.sources}  # the inputs, not `enrich`
    sources = [f"{k} (added)" for k in new_sources if k not in old_sources]
    sources += [f"{k} (removed)" for k in old_sources if k not in new_sources]
    sources += [f"{k} (changed)" for k, v in new_sources.items() if k in old_sources and old_sources[k] != v]
    old = before.models if before is not None else {}
    added = [s for s in after.models if s not in old]
    removed = [s for s in old if s not in after.models]
    old_denied = before.denied if before is not None else {}
    changed = [
        s
        for s, m in after.models.items()
        if s in old and (((o := old[s]) is not m and o != m) or old_denied.get(s) != after.denied.get(s))
    ]
    return {
        "sources": sources,
        "added": len(added),
        "removed": len(removed),
        "changed": len(changed),
        "first": [f"+{s}" for s in added[:examples]]
        + [f"-{s}" for s in removed[:examples]]
        + [f"~{s}" for s in changed[:examples]],
    }
