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
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

import anyio

from llmdbd.config import S3, Follow
from llmdbd.errors import FetchError, NotFound, StoreError
from llmdbd.fetch import HTTPStatusError, check_url, conditional_get

__all__ = ["Fetched", "NotFound", "Store", "StoreConfigError", "StoreError", "open_store"]


class StoreConfigError(StoreError):
    """A store that cannot be used as configured (a setting or variable to change, not a failure to wait out)."""


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


CREDENTIAL_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_SKIP_SIGNATURE",
)
"""Any of these set: obstore signs without asking the instance metadata endpoint for a role."""
ENDPOINT_VARS = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT")
"""Where the endpoint comes from when `s3.endpoint` is not set, first found wins (the service-specific one first,
as in the AWS SDKs)."""


class S3Store(Store):
    """An S3-compatible bucket and prefix through obstore, set as the AWS CLI and SDKs are: `[s3]` keys first,
    then the standard `AWS_*` variables (obstore reads the credentials and the rest from the environment)."""

    def __init__(self, url: str, settings: S3, *, timeout: float = 30.0) -> None:
        try:
            from obstore.store import S3Store as ObStore
        except ImportError:
            raise StoreConfigError(f"{url}: s3:// needs the fleet extra (pip install 'llmdbd[fleet]')") from None
        self.url = url
        config, allow_http = s3_config(url, settings, os.environ)
        self._signed = any(os.environ.get(name) for name in CREDENTIAL_VARS)
        parts = urlsplit(url)
        self._store = ObStore(
            parts.netloc,
            prefix=parts.path.strip("/") or None,
            config=config,  # type: ignore[arg-type]  # obstore's S3Config keys
            client_options={  # these replace obstore's from-environment client options: allow_http is resolved here
                "allow_http": allow_http,
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
            raise StoreError(f"{self.url}{name}: {self._reason(exc)}") from None

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
            raise StoreError(f"{self.url}{name}: {self._reason(exc)}") from None
        return Fetched(data, result.meta.get("e_tag"))

    def _reason(self, exc: BaseException) -> str:
        """obstore's first line, and what to set when it is the instance-role fallback of a host with no keys."""
        line = _first_line(exc)
        if not self._signed and any(path in line for path in ("/latest/api/token", "/latest/meta-data/")):
            return (
                "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for"
                f" temporary ones) in the daemon's environment, or give the host an instance role ({line})"
            )
        return line


def s3_config(url: str, settings: S3, env: Mapping[str, str]) -> tuple[dict[str, str], bool]:
    """obstore's endpoint and region keys and `allow_http`, each from `[s3]` over the environment, checked here so
    a wrong setting is one clear `StoreConfigError` rather than obstore's "builder error" (or a panic) later."""
    key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if key and not secret:
        raise StoreConfigError(f"{url}: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both")
    if secret and not key:
        raise StoreConfigError(f"{url}: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both")
    allow_http = settings.allow_http if settings.allow_http is not None else _flag(url, env, "AWS_ALLOW_HTTP")
    config: dict[str, str] = {}
    region = settings.region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        config["region"] = region
    found = [("s3.endpoint", settings.endpoint)] + [(name, env.get(name)) for name in ENDPOINT_VARS]
    source, endpoint = next(((source, value) for source, value in found if value), (None, None))
    if endpoint:
        if not _is_endpoint(endpoint):
            raise StoreConfigError(f"{url}: endpoint {endpoint!r} (from {source}) is not an http(s)://host URL")
        if urlsplit(endpoint).scheme == "http" and not allow_http:
            raise StoreConfigError(
                f"{url}: endpoint {endpoint} (from {source}) is plain http: set s3.allow_http = true"
                " (or AWS_ALLOW_HTTP=true)"
            )
        config["endpoint"] = config["aws_endpoint_url_s3"] = endpoint  # so AWS_ENDPOINT_URL_S3 cannot win over it
    return config, allow_http


def _is_endpoint(endpoint: str) -> bool:
    """An http(s) URL obstore can sign requests to (others fail as a "builder error" or a panic)."""
    try:
        parts = urlsplit(endpoint)
        parts.port  # noqa: B018  # a port that is no number raises
    except ValueError:
        return False
    printable = endpoint.isascii() and endpoint.isprintable() and " " not in endpoint
    return parts.scheme in ("http", "https") and bool(parts.hostname) and printable


def _flag(url: str, env: Mapping[str, str], name: str) -> bool:
    """A boolean variable: true/false, 1/0, yes/no, on/off (unset: false)."""
    value = env.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off", "n"):
        return False
    if value in ("1", "true", "yes", "on", "y"):
        return True
    raise StoreConfigError(f"{url}: {name}={env[name]!r} is not true or false")


class HttpStore(Store):
    """A static HTTP(S) server or a bucket's public URL: read-only, conditional GETs, streamed under a limit."""

    def __init__(self, url: str, settings: Follow) -> None:
        try:
            check_url(url, settings.allow_http, "follow.allow_http")
        except FetchError as exc:
            raise StoreError(str(exc)) from None
        self.url = url if url.endswith("/") else url + "/"
        self.timeout = settings.timeout

    async def put(self, name: str, data: bytes) -> None:
        raise StoreError(f"{self.url}: an https:// URL can be followed, not published to")

    async def get(self, name: str, *, etag: str | None = None, max_bytes: int = 1 << 30) -> Fetched | None:
        url = self.url + name
        try:
            got = await conditional_get(url, max_bytes=max_bytes, timeout=self.timeout, etag=etag)
        except HTTPStatusError as exc:
            if exc.status == 404:
                raise NotFound(f"{url}: no such object (HTTP 404)") from None
            raise StoreError(str(exc)) from None
        except FetchError as exc:
            raise StoreError(str(exc)) from None
        return None if got is None else Fetched(got.body, got.etag)


def _first_line(exc: BaseException) -> str:
    """obstore's messages carry a debug dump after the first line."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
