"""What a catalog is serving, for `Catalog.info` and `llmdb info`: the file, its epoch, hash and sources, its
counts, and the daemon's status beside it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmdb import contract

if TYPE_CHECKING:
    from llmdb._catalog import Catalog


def info(catalog: Catalog) -> dict[str, Any]:
    """What is being served: file, epoch, content hash, build time (ISO 8601 UTC), sources, counts (models,
    providers, denied, excluded), and the daemon's status when the file is a daemon's."""
    snap = catalog.snapshot
    report = snap.report()
    out: dict[str, Any] = {
        "path": str(snap.path),
        "profile": catalog.profile,
        "profiles": sorted(snap.profiles),
        "epoch": snap.epoch,
        "content_hash": snap.content_hash,
        "built_at": contract.iso(snap.built_at),
        "schema_version": snap.schema_version,
        "format_version": snap.format_version,
        "models": snap.model_count - len(snap.hidden),
        "providers": len(snap.providers),
        "denied": len(snap.denied),
        "excluded": len(snap.excluded),
        "sources": [{"name": s.name, "kind": s.kind, "file": s.file, "version": s.version} for s in report.sources],
    }
    if snap.path.name == contract.CATALOG_FILE:
        status = contract.read_status(snap.path.parent)
        if status is not None:
            out["daemon"] = contract.live(status)
    if catalog.last_error is not None:
        out["refused"] = str(catalog.last_error)
    return out
