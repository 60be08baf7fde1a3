"""The catalog packaged with the client, as an upstream layer: the daemon's data with no network and no cache."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec

from llmdb import Snapshot, contract, packaged_path
from llmdb.schema import Model, SourceInfo
from llmdbd.engine.catalog import BuiltCatalog
from llmdbd.engine.layer import Fragment
from llmdbd.engine.merge import Carried
from llmdbd.engine.profiles import compiled
from llmdbd.engine.records import record

_IDENTITY = ("spec", "id", "provider")


def path() -> Path:
    """`$LLMDBD_PACKAGED_SNAPSHOT`, else the snapshot inside the installed `llmdb` package."""
    return Path(os.environ.get("LLMDBD_PACKAGED_SNAPSHOT") or packaged_path())


def history_path() -> Path:
    """The history shipped beside the packaged snapshot (a daemon's history starts from it)."""
    return path().with_name(contract.HISTORY_FILE)


def load(snapshot: str | os.PathLike[str] | None = None, *, name: str = "packaged", file: str | None = None) -> Carried:
    """Every provider and model of a snapshot (default: the packaged one) as full records, with its allow/deny
    and exclude decisions and its per-field provenance (source `name`; `file`: where it came from, default its
    path). A build from this layer alone has the snapshot's content hash, and says which of the snapshot's
    sources (models.dev, LiteLLM, a leader's patch file, ...) set each field."""
    snap = Snapshot(snapshot or path())
    table = snap.provenance_table()
    layer = Carried(
        info=SourceInfo(name=name, kind="upstream", file=file or str(snap.path), version="sha256:" + snap.content_hash),
        fragments=[],
        denied=dict(snap.denied),
        excluded=dict(snap.excluded),
        profiles={name: profile.definition for name, profile in snap.profiles.items()},
        origins=tuple(table.sources),
        fields={(pid, None): fields for pid, fields in table.providers.items()},
    )
    for provider in snap.providers:
        data = msgspec.to_builtins(provider)
        del data["id"]
        layer.fragments.append(Fragment(provider=provider.id, model=None, data=data, full=True, where=provider.id))
    for i, spec in enumerate(snap.specs):
        model = snap.model_at(i)
        data = _without_empty({k: v for k, v in msgspec.to_builtins(model).items() if k not in _IDENTITY})
        layer.fragments.append(Fragment(provider=model.provider, model=model.id, data=data, full=True, where=spec))
        layer.fields[(model.provider, model.id)] = table.models[i]
    snap.verify()  # the rest a client would check (records read above are not decoded again) before it is used
    return layer


def _without_empty(table: dict[str, Any]) -> dict[str, Any]:
    """Drop None, empty lists and empty tables: they equal the schema's defaults, and the daemon keeps this
    layer in memory between rebuilds."""
    out = {}
    for key, value in table.items():
        if isinstance(value, dict) and key != "extra":
            value = _without_empty(value)
        if value is None or (isinstance(value, (list, tuple, dict)) and not value):
            continue
        out[key] = value
    return out


def catalog(snapshot: Snapshot) -> BuiltCatalog:
    """A snapshot as the catalog it was published from, without a build: its models and records, its denials,
    exclusions and compiled profiles, its provenance (the leader's sources) and content hash. What a follower
    publishes when nothing of its own applies. The file is verified whole on the way (`SnapshotError`); each
    record is decoded once for both."""
    models = {spec: snapshot.model_at(i) for i, spec in enumerate(snapshot.specs)}
    snapshot.verify()  # the records just decoded are not decoded again
    snap = snapshot
    table = snap.provenance_table()
    profiles = {}
    for name, found in snap.profiles.items():
        changed = {spec: msgspec.msgpack.decode(data, type=Model) for spec, data in found.records.items()}
        profiles[name] = compiled(
            found.definition, found.denied, found.excluded, changed, {s: record(m) for s, m in changed.items()}
        )
    report = snap.report()
    return BuiltCatalog(
        providers={p.id: p for p in snap.providers},
        models=models,
        records=[record(m) for m in models.values()],
        model_aliases=dict(snap.model_aliases),
        denied=dict(snap.denied),
        excluded=dict(snap.excluded),
        sources=tuple(table.sources),
        model_sources=dict(zip(snap.specs, table.models, strict=True)),
        provider_sources=dict(table.providers),
        report=report,
        content_hash=snap.content_hash,
        profiles=profiles,
    )
