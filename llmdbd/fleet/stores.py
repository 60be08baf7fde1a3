"""Where a fleet's snapshots live: object storage by URL, with one small interface for the uploader and the
follower. `s3://` goes through obstore (the `fleet` extra), `https://` through httpx (read-only), `file://` is a
directory (a shared mount, or tests).

obstore over boto3: one native wheel with no Python dependencies (boto3 brings botocore's ~20 MB of service
models and ~0.3 s of import), an async API the daemon's event loop awaits directly, conditional GETs
(If-None-Match), and S3, R2, GCS and MinIO behind the same calls. Its retries are turned down to one short
attempt: the daemon owns backoff and reports each failure.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

import anyio
import httpx

from llmdbd.config import S3, Follow


class StoreError(Exception):
    """A store that could not be read or written; the message names the URL and the reason."""


class NotFound(StoreError):
    """No object at that name."""


class Fetched(NamedTuple):
    data: bytes
    etag: str | None


class Store:
    """Objects under one URL prefix: `put` (atomic per object) and a conditional `get`."""

    url: str

    async def put(self, name: str, data: bytes) -> None:
        raise NotImplementedError

    async def get(self, name: str, *, etag: str | None = None, max_bytes: int = 1 << 30) -> Fetched | None:
        """The object and its ETag; None when `etag` still matches (not modified); `NotFound`, `StoreError`."""
        raise NotImplementedError


def open_store(url: str, s3: S3 | None = None, follow: Follow | None = None) -> Store:
    """The store behind `url` (`ValueError` for a scheme there is none for)."""
    scheme = urlsplit(url).scheme
    if scheme == "file":
        return FileStore(url)
    if scheme == "s3":
        return S3Store(url, s3 or S3(), timeout=follow.timeout if follow else 30.0)
    if scheme in ("http", "https"):
        return HttpStore(url, follow or Follow())
    raise ValueError(f"{url}: no store for {scheme or 'a URL without a scheme'} (s3://, https://, file://)")


class FileStore(Store):
    """A directory: objects are files written atomically (temp file, fsync, rename)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.root = Path(unquote(urlsplit(url).path))

    async def put(self, name: str, data: bytes) -> None:
        await anyio.to_thread.run_sync(self._put, name, data)

    def _put(self, name: str, data: bytes) -> None:
        from llmdbd.output.files import atomic_write

        path = self.root / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, data)
        except OSError as exc:
            raise StoreError(f"{self.url}{name}: {exc.strerror or exc}") from None

    async def get(self, name: str, *, etag: str | None = None, max_bytes: int = 1 << 30) -> Fetched | None:
        return await anyio.to_thread.run_sync(self._get, name, etag, max_bytes)

    def _get(self, name: str, etag: str | None, max_bytes: int) -> Fetched | None:
        path = self.root / name
        try:
            with open(path, "rb") as f:
                st = os.fstat(f.fileno())
                tag = f'"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"'
                if tag == etag:
                    return None
                if st.st_size > max_bytes:
                    raise StoreError(f"{self.url}{name}: {st.st_size} bytes, over the limit of {max_bytes}")
                return Fetched(f.read(), tag)
        except FileNotFoundError:
            raise NotFound(f"{self.url}{name}: no such object") from None
        except OSError as exc:
            raise StoreError(f"{self.url}{name}: {exc.strerror or exc}") from None


class S3Store(Store):
    """An S3-compatible bucket and prefix through obstore; credentials from the `AWS_*` variables."""

    def __init__(self, url: str, settings: S3, *, timeout: float = 30.0) -> None:
        try:
            from obstore.store import S3Store as ObStore
        except ImportError:
            raise StoreError(f"{url}: s3:// needs the fleet extra (pip install 'llmdbd[fleet]')") from None
        self.url = url
        parts = urlsplit(url)
        config: Any = {}  # obstore's S3Config keys
        if settings.endpoint:
            config["endpoint"] = settings.endpoint
        if settings.region:
            config["region"] = settings.region
        self._store = ObStore(
            parts.netloc,
            prefix=parts.path.strip("/") or None,
            config=config,
            client_options={
                "allow_http": settings.allow_http,
                "timeout": timedelta(seconds=timeout),
                "connect_timeout": timedelta(seconds=min(timeout, 5.0)),
            },
            retry_config={"max_retries": 1, "retry_timeout": timedelta(seconds=timeout)},
        )

    async def put(self, name: str, data: bytes) -> None:
        import obstore

        try:
            await obstore.put_async(self._store, name, data)
        except Exception as exc:  # obstore raises its own and builtin errors; each becomes the daemon's message
            raise StoreError(f"{self.url}{name}: {_first_line(exc)}") from None

    async def get(self, name: str, *, etag: str | None = None, max_bytes: int = 1 << 30) -> Fetched | None:
        import obstore
        from obstore.exceptions import NotModifiedError

        try:
            result = await obstore.get_async(self._store, name, options={"if_none_match": etag} if etag else None)
            if result.meta["size"] > max_bytes:
                raise StoreError(f"{self.url}{name}: {result.meta['size']} bytes, over the limit of {max_bytes}")
            data = bytes(await result.bytes_async())
        except NotModifiedError:
            return None
        except FileNotFoundError:
            raise NotFound(f"{self.url}{name}: no such object") from None
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"{self.url}{name}: {_first_line(exc)}") from None
        return Fetched(data, result.meta.get("e_tag"))


class HttpStore(Store):
    """A static HTTP(S) server or a bucket's public URL: read-only, conditional GETs, streamed under a limit."""

    def __init__(self, url: str, settings: Follow) -> None:
        from llmdbd.daemon.upstream import FetchError, check_url

        try:
            check_url(url, settings.allow_http, "follow.allow_http")
        except FetchError as exc:
            raise StoreError(str(exc)) from None
        self.url = url if url.endswith("/") else url + "/"
        self.timeout = settings.timeout

    async def put(self, name: str, data: bytes) -> None:
        raise StoreError(f"{self.url}: an https:// URL can be followed, not published to")

    async def get(self, name: str, *, etag: str | None = None, max_bytes: int = 1 << 30) -> Fetched | None:
        headers = {"If-None-Match": etag} if etag else {}
        url = self.url + name
        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout) as client,
                client.stream("GET", url, headers=headers) as response,
            ):
                if response.status_code == 304:
                    return None
                if response.status_code == 404:
                    raise NotFound(f"{url}: no such object (HTTP 404)")
                if response.status_code != 200:
                    raise StoreError(f"{url}: HTTP {response.status_code}")
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise StoreError(f"{url}: over the limit of {max_bytes} bytes")
                    chunks.append(chunk)
                return Fetched(b"".join(chunks), response.headers.get("ETag"))
        except httpx.HTTPError as exc:
            raise StoreError(f"{url}: {type(exc).__name__}: {exc}") from None


def _first_line(exc: BaseException) -> str:
    """obstore's messages carry a debug dump after the first line."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
