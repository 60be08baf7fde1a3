"""Profiles (`[profiles.<name>]`): each one built as the base's layers plus its own overrides and excludes, under
its own allow/deny, then kept as its differences from the base, so one snapshot serves every environment."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import msgspec
from msgspec import Struct

from llmdb.schema import BuildIssue
from llmdbd.engine.build import build
from llmdbd.engine.cache import ModelCache
from llmdbd.engine.catalog import BuiltCatalog, CompiledProfile
from llmdbd.engine.filters import Rules
from llmdbd.engine.layer import Layer

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
) -> BuiltCatalog:
    """`base` with every profile compiled in, and a content hash that covers them (a changed profile is a new
    catalog to publish). A profile's build problems join the base's report, named after the profile."""
    if not profiles:
        return base
    compiled: dict[str, CompiledProfile] = {}
    issues: list[BuildIssue] = []
    for name, given in sorted(profiles.items()):
        cache = caches.setdefault(name, ModelCache()) if caches is not None else None
        catalog = build([*layers, given.layer], given.rules, cache=cache)
        compiled[name], found = _compile(name, base, catalog, given.definition)
        issues += found
    body = _ENCODER.encode([base.content_hash, [(n, p.digest) for n, p in compiled.items()]])
    report = msgspec.structs.replace(base.report, issues=(*base.report.issues, *issues))
    return msgspec.structs.replace(
        base, profiles=compiled, content_hash=hashlib.sha256(body).hexdigest(), report=report
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
    digest = hashlib.sha256(
        _ENCODER.encode(
            [definition, sorted(denied.items()), sorted(excluded), sorted((s, records[s].digest) for s in changed)]
        )
    ).hexdigest()
    profile = CompiledProfile(
        definition=definition,
        denied=dict(sorted(denied.items())),
        excluded=excluded,
        models=changed,
        records={s: records[s] for s in changed},
        digest=digest,
    )
    return profile, issues
