"""`Uploader`: a leader's published snapshots, uploaded to each publish target: the file under its sha256, then
the manifest naming it. Only the newest epoch matters: offers made while an upload runs coalesce into the next.
A target that fails is retried with backoff and reported; it never holds up local publishing."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import msgspec

from llmdb import contract
from llmdb.contract import PublishStatus
from llmdbd.config import S3
from llmdbd.errors import Refused
from llmdbd.fleet import manifest
from llmdbd.fleet.stores import NotFound, Store, StoreError, open_store


class Uploader:
    """What each target has of this daemon's snapshots (`status`, by target URL)."""

    def __init__(self, state: Path, targets: list[str], s3: S3) -> None:
        self.state = state
        self.latest: int | None = None
        """The epoch to upload: the one being served."""
        self.status = {url: PublishStatus(url=url) for url in targets}
        self.stores: dict[str, Store | StoreError] = {}
        for url in targets:
            try:
                self.stores[url] = open_store(url, s3)
            except StoreError as exc:
                self.stores[url] = exc
        self._wake = {url: anyio.Event() for url in targets}

    def offer(self, epoch: int) -> None:
        """Upload `epoch` (already published locally) to every target."""
        if epoch != self.latest:
            self.latest = epoch
            for event in self._wake.values():
                event.set()

    async def upload(self, url: str) -> bool:
        """Upload the latest epoch to `url` unless its manifest already names that file; True if uploaded.
        `StoreError` when the target fails, `OSError` when the retained snapshot cannot be read."""
        store = self.stores[url]
        if isinstance(store, StoreError):
            raise store
        epoch = self.latest
        if epoch is None:
            return False
        started = time.perf_counter()
        path = contract.retained_path(self.state, epoch)
        data = await anyio.to_thread.run_sync(path.read_bytes)
        described, name = manifest.describe(data, await anyio.to_thread.run_sync(manifest.sources_of, path))
        if self.status[url].sha256 != described.sha256 and not await _holds(store, described.sha256):
            await store.put(name, data)  # the file first: a manifest never names a missing file
            await store.put(manifest.MANIFEST, manifest.encode(described))
        self.status[url] = PublishStatus(
            url=url,
            epoch=epoch,
            content_hash=described.content_hash,
            sha256=described.sha256,
            uploaded_at=described.published_at,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return True

    def failed(self, url: str, error: str, failures: int, retry_in: float) -> None:
        self.status[url] = msgspec.structs.replace(
            self.status[url], error=error, failures=failures, retry_in=round(retry_in, 1)
        )

    async def wait(self, url: str) -> None:
        """Until there is a new epoch to upload to `url`."""
        await self._wake[url].wait()
        self._wake[url] = anyio.Event()


async def _holds(store: Store, sha256: str) -> bool:
    """Whether the target's manifest already names this file (a restart serving what was uploaded)."""
    try:
        found = await store.get(manifest.MANIFEST)
    except NotFound:
        return False
    if found is None:
        return False
    try:
        return manifest.decode(found.data, store.url).sha256 == sha256
    except Refused:
        return False
