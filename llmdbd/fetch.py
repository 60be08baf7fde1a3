"""Fetching over HTTP, for every part of the daemon that reads a URL (upstream catalogs, a leader's files):
one connection pool per event loop, TLS verified, a conditional GET streamed under a byte limit, plain http
refused except to loopback. Each failure is a `FetchError` naming the URL and the reason."""

from __future__ import annotations

import asyncio
import ipaddress
import weakref
from typing import NamedTuple
from urllib.parse import urlsplit

import httpx

from llmdbd.errors import FetchError

MAX_REDIRECTS = 3
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()


class Fetched(NamedTuple):
    """A 200 response's body and the validators to ask with next time."""

    body: bytes
    etag: str | None
    last_modified: str | None


class HTTPStatusError(FetchError):
    """The server answered, with a status other than 200 or 304; `status` is it."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def check_url(url: str, allow_http: bool, key: str) -> None:
    """Refuse anything but https://, and plain http:// except to loopback or when `allow_http` (the setting
    `key`, named in the message) allows it."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError as exc:
        raise FetchError(f"{url}: not a valid URL: {exc}") from None
    if parts.scheme == "https":
        return
    if parts.scheme != "http":
        raise FetchError(f"{url}: only https:// (or http:// to loopback) is fetched")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not (loopback or allow_http):
        raise FetchError(f"{url}: plain http:// is refused for non-loopback hosts (set {key})")


def client() -> httpx.AsyncClient:
    """The HTTP client of the running event loop (made at first use): one connection pool for every fetch."""
    loop = asyncio.get_running_loop()
    found = _clients.get(loop)
    if found is None or found.is_closed:
        found = _clients[loop] = httpx.AsyncClient(
            verify=True, follow_redirects=True, max_redirects=MAX_REDIRECTS, headers={"User-Agent": "llmdbd"}
        )
    return found


async def aclose() -> None:
    """Close the running event loop's client (a service that stops; the next fetch makes a new one)."""
    found = _clients.pop(asyncio.get_running_loop(), None)
    if found is not None:
        await found.aclose()


async def conditional_get(
    url: str,
    *,
    max_bytes: int,
    timeout: httpx.Timeout | float,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: str = "*/*",
) -> Fetched | None:
    """The body at `url`, or None when the server says it has not changed since `etag` / `last_modified`
    (304). `HTTPStatusError` for another status, `FetchError` for a body over `max_bytes` (declared or
    streamed) and for anything the connection did."""
    headers = {"Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with client().stream("GET", url, headers=headers, timeout=timeout) as response:
            if response.status_code == 304:
                return None
            if response.status_code != 200:
                raise HTTPStatusError(f"{url}: HTTP {response.status_code}", response.status_code)
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"{url}: body of {declared} bytes is over the {max_bytes} limit")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():  # a body cut short raises (h11 checks Content-Length)
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"{url}: body is over the {max_bytes} byte limit")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
    return Fetched(b"".join(chunks), response.headers.get("ETag"), response.headers.get("Last-Modified"))
