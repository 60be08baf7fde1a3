"""The engine's result: the effective catalog, its provenance and build report, and its content hash."""

from __future__ import annotations

import hashlib

import msgspec
from msgspec import Struct

from llmdb._format import FieldSource, expand
from llmdb.schema import SCHEMA_VERSION, BuildReport, Model, Provenance, Provider, SourceInfo

_ENCODER = msgspec.msgpack.Encoder(order="deterministic")


class Catalog(Struct, frozen=True, kw_only=True):
    """Everything a publisher needs; dicts are ordered by key so iteration is deterministic."""

    providers: dict[str, Provider]
    """Canonical provider id → provider."""
    models: dict[str, Model]
    """Spec (`provider:id`) → model, including models denied by the allow/deny rules."""
    model_aliases: dict[str, str]
    """Alias spec (`provider:alias`) → spec of the model it names."""
    denied: dict[str, str]
    """Spec → the allow/deny rule that denies it; every other model is allowed."""
    sources: tuple[SourceInfo, ...]
    """Every layer of the build, then the stages that set values (`enrich`): what `FieldSource`s point at."""
    model_sources: dict[str, dict[str, FieldSource]]
    """Spec → field path (`cost.input`) → where its value came from, compactly (see `provenance`)."""
    provider_sources: dict[str, dict[str, FieldSource]]
    report: BuildReport
    content_hash: str

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


def content_hash(
    providers: dict[str, Provider],
    models: dict[str, Model],
    model_aliases: dict[str, str],
    denied: dict[str, str],
) -> str:
    """sha256 of a canonical encoding of the effective catalog: no timestamps, no provenance, sorted keys."""
    body = _ENCODER.encode(
        (
            SCHEMA_VERSION,
            sorted(providers.values(), key=lambda p: p.id),
            sorted(models.values(), key=lambda m: m.spec),
            sorted(model_aliases.items()),
            sorted(denied.items()),
        )
    )
    return hashlib.sha256(body).hexdigest()
