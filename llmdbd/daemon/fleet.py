"""The service's part in a fleet: upload what it publishes to each `[publish]` target, and follow a `[follow]`
leader. The loops live here; what is uploaded and what is followed are `Uploader`'s and `Follower`'s."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import anyio
import structlog

from llmdbd.daemon.rebuild import Rebuilder
from llmdbd.errors import Refused
from llmdbd.fleet.follow import Follower
from llmdbd.fleet.stores import StoreError
from llmdbd.fleet.upload import Uploader

log = structlog.get_logger("llmdbd")


class Fleet:
    """Created before the first build: a follower starts from the last verified file it kept."""

    def __init__(self, rebuilder: Rebuilder) -> None:
        config = rebuilder.config
        self.rebuilder = rebuilder
        self.uploader = Uploader(rebuilder.state, config.publish.targets, config.s3) if config.publish.targets else None
        self.follower = Follower(rebuilder.state, config.follow, config.s3) if config.follow.url else None
        if self.uploader is not None:
            uploader = self.uploader
            rebuilder.reports["publish"] = lambda: list(uploader.status.values())
        if self.follower is not None:
            follower = self.follower
            follower.load()
            rebuilder.base = follower
            rebuilder.reports["follow"] = lambda: follower.report(rebuilder.served.get("content_hash"))

    def published(self) -> None:
        """After each build: the catalog being served goes to every target (a no-op when it already has)."""
        epoch = self.rebuilder.served.get("epoch")
        if self.uploader is not None and epoch is not None:
            self.uploader.offer(epoch)

    def start(self, tg: anyio.abc.TaskGroup, request: Callable[[str], None]) -> None:
        if self.uploader is not None:
            for url in self.uploader.status:
                tg.start_soon(self._upload, self.uploader, url)
        if self.follower is not None:
            tg.start_soon(self._follow, self.follower, request)

    async def _upload(self, uploader: Uploader, url: str) -> None:
        failures = 0
        while True:
            if failures == 0:
                await uploader.wait(url)
            try:
                if await uploader.upload(url):
                    log.info("snapshot_uploaded", **uploader.status[url])
                failures = 0
            except (StoreError, OSError) as exc:
                failures += 1
                delay = min(self.rebuilder.config.publish.retry_max, 2.0 ** (failures - 1)) * random.uniform(0.5, 1)
                uploader.failed(url, str(exc), failures, delay)
                log.warning("upload_failed", target=url, error=str(exc), failures=failures, retry_in=round(delay, 1))
                self.rebuilder.write_status()
                await anyio.sleep(delay)
                continue
            self.rebuilder.write_status()

    async def _follow(self, follower: Follower, request: Callable[[str], None]) -> None:
        while True:
            interval = self.rebuilder.config.follow.poll_interval
            started = time.monotonic()
            try:
                if await follower.poll():
                    log.info("leader_followed", url=follower.url, **_brief(follower))
                    request("leader_changed")
                follower.error, follower.failures = None, 0
                delay = max(0.0, interval - (time.monotonic() - started))  # one poll per interval, not after it
            except (StoreError, OSError) as exc:
                follower.error, follower.failures = str(exc), follower.failures + 1
                delay = min(interval, 2.0 ** min(follower.failures, 6)) * random.uniform(0.5, 1)
                log.warning("leader_unreachable", url=follower.url, error=str(exc), failures=follower.failures)
            except Refused as exc:
                follower.error, follower.failures, delay = str(exc), follower.failures + 1, interval
                log.error("leader_refused", url=follower.url, error=str(exc), keeping="the catalog being served")
            self.rebuilder.write_status()
            await anyio.sleep(delay)


def _brief(follower: Follower) -> dict[str, object]:
    seen = follower.followed
    return {} if seen is None else {"epoch": seen.epoch, "content_hash": seen.content_hash, "sha256": seen.sha256}
