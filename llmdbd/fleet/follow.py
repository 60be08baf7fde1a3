"""`Follower`: a daemon that takes its catalog from a leader's manifest instead of the upstream catalogs.

Each poll asks for the manifest (If-None-Match); a new one is downloaded, verified (`manifest.verify`) and kept in
`state_dir/follow/` before it becomes the base layer of the next build, under local patch files if there are
any. A file that fails a check, a manifest naming a missing file, or an older epoch than the one followed is
refused and reported; the catalog being served stays. After a restart the daemon starts from the last verified
file (a download cut short leaves only a temp file, removed at start)."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import anyio

from llmdb.contract import Following, FollowStatus, LeaderSeen, iso, unix
from llmdbd.config import S3, Follow
from llmdbd.engine import BuiltCatalog, Layer, prepare
from llmdbd.errors import Refused
from llmdbd.fleet import manifest
from llmdbd.fleet.manifest import Manifest
from llmdbd.fleet.stores import NotFound, Store, StoreError, open_store
from llmdbd.output.files import atomic_write
from llmdbd.sources import packaged

FOLLOW_DIR = "follow"
"""In the state directory: the verified snapshot followed (`<sha256>.llmdb`) and its manifest."""
REFUSED_RETRY_S = 300.0
"""A manifest whose file was refused is not downloaded again for this long unless the manifest changes."""


class Follower:
    def __init__(self, state: Path, settings: Follow, s3: S3) -> None:
        assert settings.url is not None
        self.url = settings.url
        self.settings = settings
        self.dir = state / FOLLOW_DIR
        self.store: Store | None = None
        self.followed: Manifest | None = None
        """The manifest of the verified file builds start from."""
        self.seen: Manifest | None = None
        """The leader's manifest as last read."""
        self.checked_at: float | None = None
        self.applied_at: float | None = None
        self.error: str | None = None
        self.failures = 0
        self._etag: str | None = None
        self._layer: Layer | None = None
        self._adopted: BuiltCatalog | None = None
        self._refused: tuple[Manifest, str, float] | None = None
        """The manifest whose file was refused last, why, and when."""
        try:
            self.store = open_store(self.url, s3, settings)
        except (StoreError, ValueError) as exc:
            self.error = str(exc)

    def load(self) -> None:
        """Start from the verified file an earlier run kept, if it is still intact."""
        self.dir.mkdir(parents=True, exist_ok=True)
        for temp in self.dir.glob(".*.tmp"):  # a download or write cut short by a kill
            temp.unlink(missing_ok=True)
        try:
            kept = manifest.decode((self.dir / manifest.MANIFEST).read_bytes(), str(self.dir / manifest.MANIFEST))
            path = self.dir / f"{kept.sha256}.llmdb"
            self._adopted = manifest.verify(path, path.read_bytes(), kept, str(path))
            applied = path.stat().st_mtime  # when it was taken, for the lag
        except (OSError, Refused):
            return
        self.followed, self.applied_at = kept, applied

    def catalog(self) -> BuiltCatalog | None:
        """The followed catalog as it was published (None before the first verified download), read while it
        was verified: served as is when nothing of this host's applies on top."""
        return self._adopted

    def layer(self) -> Layer | None:
        """The followed catalog as the build's base layer (None before the first verified download)."""
        if self.followed is None:
            return None
        if self._layer is None:
            path = self.dir / f"{self.followed.sha256}.llmdb"
            self._layer = prepare(packaged.load(path, name="leader", file=self.url + self.followed.file))
        return self._layer

    async def poll(self) -> bool:
        """Read the manifest and take a new snapshot if there is one; True when a rebuild should follow.
        `StoreError` when the store cannot be reached, `Refused` for what fails a check."""
        if self.store is None:
            raise StoreError(self.error or f"{self.url}: no store")
        fetched = await self.store.get(manifest.MANIFEST, etag=self._etag)
        self.checked_at = time.time()
        if fetched is None:
            return False
        seen = manifest.decode(fetched.data, self.url + manifest.MANIFEST)
        self.seen = seen
        followed = self.followed
        if followed is not None and seen.sha256 == followed.sha256:
            self._etag = fetched.etag
            return False
        if followed is not None and seen.epoch <= followed.epoch:
            raise Refused(
                f"{self.url}{manifest.MANIFEST}: epoch {seen.epoch} is not newer than epoch {followed.epoch},"
                " already followed: a follower never goes back"
            )
        refused = self._refused
        if refused is not None and refused[0] == seen and time.time() - refused[2] < REFUSED_RETRY_S:
            raise Refused(refused[1])  # the same file again: not downloaded again for a while
        try:
            adopted = await self._take(seen)
        except NotFound:  # perhaps not there yet (a store that shows the manifest first): asked again next poll
            raise Refused(f"{self.url}{manifest.MANIFEST}: names {seen.file}, which is not there") from None
        except Refused as exc:
            self._refused = (seen, str(exc), time.time())
            raise
        self.followed, self.applied_at, self._etag = seen, time.time(), fetched.etag
        self._layer, self._adopted = None, adopted
        return True

    async def _take(self, seen: Manifest) -> BuiltCatalog:
        """Download the file `seen` names, verify and keep it; the catalog it holds (`NotFound`: no such file)."""
        assert self.store is not None
        body = await self.store.get(seen.file, max_bytes=self.settings.max_bytes)
        assert body is not None
        return await anyio.to_thread.run_sync(self._keep, seen, body.data)

    def _keep(self, seen: Manifest, data: bytes) -> BuiltCatalog:
        """Verify the download as a file in place, then make it the followed one (the old one is removed); the
        catalog it holds."""
        temp = self.dir / f".download.{os.getpid()}.tmp"
        try:
            with open(temp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            adopted = manifest.verify(temp, data, seen, self.url + seen.file)
            temp.rename(self.dir / f"{seen.sha256}.llmdb")
        finally:
            temp.unlink(missing_ok=True)
        atomic_write(self.dir / manifest.MANIFEST, manifest.encode(seen))
        for old in self.dir.glob("*.llmdb"):
            if old.name != f"{seen.sha256}.llmdb":
                old.unlink(missing_ok=True)
        return adopted

    def report(self, served_hash: str | None) -> FollowStatus:
        """For the status file: the leader's hash last seen, the one followed, whether this host serves it, and
        how stale the last successful check is."""
        out = FollowStatus(url=self.url, checked_at=iso(self.checked_at), error=self.error)
        if self.error is not None:
            out.failures = self.failures
        if self.checked_at is not None:
            out.stale_s = round(time.time() - self.checked_at, 1)
        if self.seen is not None:
            seen = self.seen
            out.leader = LeaderSeen(
                content_hash=seen.content_hash, epoch=seen.epoch, published_at=seen.published_at, host=seen.leader
            )
        followed = self.followed
        if followed is not None:
            out.following = Following(
                content_hash=followed.content_hash,
                epoch=followed.epoch,
                sha256=followed.sha256,
                applied_at=iso(self.applied_at),
            )
            out.serves_leader = served_hash == followed.content_hash
            if not out.serves_leader:
                out.differs_because = (
                    "local patch files, config overrides, rules or profiles apply on top of the leader's catalog"
                    " (or the rebuild that takes it is under way)"
                )
            with contextlib.suppress(ValueError):
                if self.applied_at is not None:
                    out.lag_s = round(max(0.0, self.applied_at - unix(followed.published_at)), 3)
        return out
