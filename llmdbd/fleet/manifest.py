"""The manifest a leader writes beside its snapshots (`manifest.json`), and the checks a follower makes of a
downloaded file against it. The manifest is written last, after the file it names, so it never names a
missing file; snapshot objects are immutable and named by their sha256."""

from __future__ import annotations

import hashlib
import socket
import time
from pathlib import Path

import msgspec
from msgspec import Struct

from llmdb import Snapshot, SnapshotError, contract
from llmdbd.engine import BuiltCatalog
from llmdbd.errors import Refused
from llmdbd.sources import packaged

MANIFEST = "manifest.json"
SNAPSHOTS = "snapshots/"


class Manifest(Struct, frozen=True, kw_only=True, forbid_unknown_fields=False):
    file: str
    """The snapshot object's name under the prefix (`snapshots/<sha256>.llmdb`)."""
    content_hash: str
    epoch: int
    """The leader's epoch: a follower never goes back to an older one."""
    schema_version: int
    format_version: str
    size: int
    sha256: str
    built_at: str
    published_at: str
    """When the leader uploaded it (ISO 8601 UTC): a follower's lag is measured from here."""
    leader: str
    """The leader's host name."""
    sources: list[dict[str, str | None]] = []


def describe(data: bytes, sources: list[dict[str, str | None]] | None = None) -> tuple[Manifest, str]:
    """The manifest for a published snapshot file's bytes (read back, so it describes exactly what is uploaded)
    and the sources it was built from, and the object name to upload it under."""
    sha = hashlib.sha256(data).hexdigest()
    header = contract.parse_header(data, "the published snapshot")
    name = f"{SNAPSHOTS}{sha}.llmdb"
    manifest = Manifest(
        file=name,
        content_hash=header.content_hash,
        epoch=header.epoch,
        schema_version=header.schema,
        format_version=f"{header.major}.{header.minor}",
        size=len(data),
        sha256=sha,
        built_at=contract.iso(header.built_at) or "",
        published_at=contract.iso(time.time()) or "",
        leader=socket.gethostname(),
        sources=sources or [],
    )
    return manifest, name


def sources_of(path: Path) -> list[dict[str, str | None]]:
    """A snapshot's build inputs as the manifest lists them: name, kind, file and version of each."""
    return [
        {"name": s.name, "kind": s.kind, "file": s.file, "version": s.version} for s in Snapshot(path).report().sources
    ]


def encode(manifest: Manifest) -> bytes:
    return msgspec.json.format(msgspec.json.encode(manifest), indent=2) + b"\n"


def decode(data: bytes, where: str) -> Manifest:
    try:
        return msgspec.json.decode(data, type=Manifest)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise Refused(f"{where}: not a manifest: {exc}") from None


def verify(path: Path, data: bytes, manifest: Manifest, where: str) -> BuiltCatalog:
    """Every check before a downloaded snapshot at `path` (its bytes: `data`) may be published: size and sha256
    as the manifest says, its content hash and epoch, and the file's own checksums, all of it. The catalog it
    holds comes out of the same pass (`packaged.catalog`)."""
    if len(data) != manifest.size:
        raise Refused(f"{where}: {len(data)} bytes, the manifest says {manifest.size} (truncated?)")
    sha = hashlib.sha256(data).hexdigest()
    if sha != manifest.sha256:
        raise Refused(f"{where}: sha256 {sha[:16]}…, the manifest says {manifest.sha256[:16]}…")
    try:
        snap = Snapshot(path)
        if snap.content_hash != manifest.content_hash:
            raise Refused(
                f"{where}: content hash {snap.content_hash[:16]}…, the manifest says {manifest.content_hash[:16]}…"
            )
        if snap.epoch != manifest.epoch:
            raise Refused(f"{where}: epoch {snap.epoch}, the manifest says {manifest.epoch}")
        return packaged.catalog(snap)
    except SnapshotError as exc:
        raise Refused(f"{where}: {exc}") from None
