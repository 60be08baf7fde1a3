"""The service's part in a fleet: upload what it publishes to each `[publish]` target, and follow a `[follow]`
leader. The loops live here; what is uploaded and what is followed are `Uploader`'s and `Follower`'s."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import anyio
import msgspec
import structlog

from llmdb.contract import FollowStatus, PublishStatus
from llmdbd.config import Config
from llmdbd.daemon.backoff import backoff
from llmdbd.daemon.rebuild import Rebuilder
from llmdbd.errors import Refused, StoreError
from llmdbd.fleet.follow import Follower
from llmdbd.fleet.upload import Uploader

log = structlog.get_logger("llmdbd")


class Fleet:
    """Made before the first build, from the configuration at start: a follower starts from the last verified
    file it kept (the `Rebuilder`'s base)."""

    def __init__(self, config: Config, state: Path) -> None:
        self.uploader = Uploader(state, config.publish.targets, config.s3) if config.publish.targets else None
        self.follower = Follower(state, config.follow, config.s3) if config.follow.url else None
        if self.follower is not None:
            self.follower.load()

    def publish_status(self) -> list[PublishStatus] | None:
        return list(self.uploader.status.values()) if self.uploader is not None else None

    def follow_status(self, served_hash: str | None) -> FollowStatus | None:
        return self.follower.report(served_hash) if self.follower is not None else None

    def published(self, epoch: int | None) -> None:
        """After each build: the catalog being served goes to every target (a no-op when it already has)."""
        if self.uploader is not None and epoch is not None:
            self.uploader.offer(epoch)

    def start(self, tg: anyio.abc.TaskGroup, rebuilder: Rebuilder, request: Callable[[str], None]) -> None:
        if self.uploader is not None:
            for url in self.uploader.status:
                tg.start_soon(self._upload, self.uploader, url, rebuilder)
        if self.follower is not None:
            tg.start_soon(self._follow, self.follower, rebuilder, request)

    async def _upload(self, uploader: Uploader, url: str, rebuilder: Rebuilder) -> None:
        failures = 0
        while True:
            if failures == 0:
                await uploader.wait(url)
            try:
                if await uploader.upload(url):
                    log.info("snapshot_uploaded", **msgspec.to_builtins(uploader.status[url]))
                failures = 0
            except (StoreError, OSError) as exc:
                failures += 1
                delay = backoff(failures, rebuilder.config.publish.retry_max)
                uploader.failed(url, str(exc), failures, delay)
                log.warning("upload_failed", target=url, error=str(exc), failures=failures, retry_in=round(delay, 1))
                rebuilder.write_status()
                await anyio.sleep(delay)
                continue
            rebuilder.write_status()

    async def _follow(self, follower: Follower, rebuilder: Rebuilder, request: Callable[[str], None]) -> None:
        while True:
            interval = rebuilder.config.follow.poll_interval
            started = time.monotonic()
            try:
                if await follower.poll():
                    log.info("leader_followed", url=follower.url, **_brief(follower))
                    request("leader_changed")
                follower.error, follower.failures = None, 0
                delay = max(0.0, interval - (time.monotonic() - started))  # one poll per interval, not after it
            except (StoreError, OSError) as exc:
                follower.error, follower.failures = str(exc), follower.failures + 1
                delay = backoff(follower.failures, interval)
                log.warning("leader_unreachable", url=follower.url, error=str(exc), failures=follower.failures)
            except Refused as exc:
                follower.error, follower.failures, delay = str(exc), follower.failures + 1, interval
                log.error("leader_refused", url=follower.url, error=str(exc), keeping="the catalog being served")
            rebuilder.write_status()
            await anyio.sleep(delay)


def _brief(follower: Follower) -> dict[str, object]:
    seen = follower.followed
    return {} if seen is None else {"epoch": seen.epoch, "content_hash": seen.content_hash, "sha256": seen.sha256}
