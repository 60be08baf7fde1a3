"""Profiles (`[profiles.<name>]`): each one built as the base's layers plus its own overrides and excludes, under
its own allow/deny, then kept as its differences from the base, so one snapshot serves every environment."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import msgspec
from msgspec import Struct

from llmdb.schema import BuildIssue, Model
from llmdbd.engine.build import build
from llmdbd.engine.cache import ModelCache
from llmdbd.engine.catalog import BuiltCatalog, CompiledProfile
from llmdbd.engine.filters import Rules
from llmdbd.engine.layer import Layer
from llmdbd.engine.records import Record

_ENCODER = msgspec.json.Encoder(order="deterministic")


class ProfileInput(Struct, frozen=True, kw_only=True):
    """What a profile's build needs beyond the base's layers: its layer (overrides and excludes) and rules."""

    definition: dict[str, Any]
    layer: Layer
    rules: Rules


def build_profiles(
    base: BuiltCatalog,
    layers: list[Layer],
    profiles: Mapping[str, ProfileInput],
    caches: dict[str, ModelCache] | None = None,
    *,
    agreement: bool = True,
) -> BuiltCatalog:
    """`base` with every profile compiled in, and a content hash that covers them (a changed profile is a new
    catalog to publish). A profile's build problems join the base's report, named after the profile; each
    profile's build applies the agreement rule as the base's did (`agreement`)."""
    if not profiles:
        return base
    compiled_: dict[str, CompiledProfile] = {}
    issues: list[BuildIssue] = []
    for name, given in sorted(profiles.items()):
        cache = caches.setdefault(name, ModelCache()) if caches is not None else None
        catalog = build([*layers, given.layer], given.rules, cache=cache, agreement=agreement)
        compiled_[name], found = _compile(name, base, catalog, given.definition)
        issues += [i for i in catalog.report.issues if i.source == f"profile:{name}"]  # its overrides' problems
        issues += found
    report = msgspec.structs.replace(base.report, issues=(*base.report.issues, *issues))
    return msgspec.structs.replace(
        base, profiles=compiled_, content_hash=combined_hash(base.content_hash, compiled_), report=report
    )


def _compile(
    name: str, base: BuiltCatalog, catalog: BuiltCatalog, definition: dict[str, Any]
) -> tuple[CompiledProfile, list[BuildIssue]]:
    issues = [
        BuildIssue(
            severity="warning",
            stage="profiles",
            message=f"profile {name!r} adds {spec}: profiles change the base's models, they do not add any",
            source=f"profile:{name}",
        )
        for spec in catalog.models
        if spec not in base.models
    ]
    records = dict(zip(catalog.models, catalog.records, strict=True))
    changed = {s: m for s, m in catalog.models.items() if s in base.models and m != base.models[s]}
    excluded = {s: catalog.excluded.get(s, f"profile {name}") for s in base.models if s not in catalog.models}
    denied = {s: r for s, r in (*base.denied.items(), *catalog.denied.items()) if s in catalog.models}
    return compiled(definition, denied, excluded, changed, {s: records[s] for s in changed}), issues


def compiled(
    definition: dict[str, Any],
    denied: dict[str, str],
    excluded: dict[str, str],
    models: dict[str, Model],
    records: dict[str, Record],
) -> CompiledProfile:
    """A profile from its parts, with the digest the content hash covers (also for a profile read back from a
    snapshot: the same parts give the same digest)."""
    digest = hashlib.sha256(
        _ENCODER.encode(
            [definition, sorted(denied.items()), sorted(excluded), sorted((s, r.digest) for s, r in records.items())]
        )
    ).hexdigest()
    return CompiledProfile(
        definition=definition,
        denied=dict(sorted(denied.items())),
        excluded=excluded,
        models=models,
        records=records,
        digest=digest,
    )


def combined_hash(base_hash: str, profiles: Mapping[str, CompiledProfile]) -> str:
    """The content hash of a catalog with profiles: its base's and each profile's digest."""
    body = _ENCODER.encode([base_hash, [(n, p.digest) for n, p in profiles.items()]])
    return hashlib.sha256(body).hexdigest()
