"""The engine's result: the effective catalog, its provenance and build report, and its content hash."""

from __future__ import annotations

import hashlib

import msgspec
from msgspec import Struct

from llmdb.schema import SCHEMA_VERSION, BuildReport, Model, Provenance, Provider

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
    model_provenance: dict[str, dict[str, Provenance]]
    """Spec → field path (`cost.input`) → where its value came from."""
    provider_provenance: dict[str, dict[str, Provenance]]
    report: BuildReport
    content_hash: str

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
