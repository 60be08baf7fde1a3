"""The daemon's configuration: a TOML file, every key also settable by an `LLMDBD_*` environment variable.

    state_dir = "/var/lib/llmdb"            # LLMDBD_STATE_DIR
    patch_dirs = ["/etc/llmdb/patches.d"]   # LLMDBD_PATCH_DIRS (os.pathsep-separated)
    [upstream]
    poll_interval = 3600                    # LLMDBD_UPSTREAM_POLL_INTERVAL

A missing file means defaults; a bad file or value is refused with a message naming the key.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import msgspec
from msgspec import Struct, field

from llmdbd.filters import Globs, Rules

DEFAULT_PATH = Path("/etc/llmdb/llmdbd.toml")
ENV_PREFIX = "LLMDBD_"


class ConfigError(Exception):
    """A configuration that cannot be used; the message names the file and key."""


class Upstream(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url: str = "https://models.dev/api.json"
    poll_interval: float = 0.0
    """Seconds between polls; 0 turns polling off (the default)."""
    file: str | None = None
    """A local api.json to use when there is no cached upstream body (before the packaged catalog)."""
    allow_http: bool = False
    """Allow plain http:// for hosts other than loopback."""
    max_bytes: int = 64 * 1024 * 1024
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_shrink: float = 0.5
    """Reject a body whose model count shrinks by more than this share of the last good one."""
    backoff_max: float = 3600.0


class Config(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    state_dir: str = "/var/lib/llmdb"
    patch_dirs: list[str] = field(default_factory=lambda: ["/etc/llmdb/patches.d"])
    overrides_module: str | None = None
    keep: int = 5
    """Snapshots retained in `state_dir/snapshots/`."""
    debounce_ms: int = 200
    log_format: Literal["auto", "json", "console"] = "auto"
    upstream: Upstream = field(default_factory=Upstream)
    allow: dict[str, Globs] | None = None
    deny: dict[str, Globs] = field(default_factory=dict)
    overrides: dict[str, Any] | None = None
    """A patch document (`provider`, `models`, `exclude`) applied above patch files."""

    def rules(self) -> Rules:
        return Rules(allow=self.allow, deny=self.deny)


def load(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> tuple[Config, Path]:
    """The configuration from `path` (default /etc/llmdb/llmdbd.toml) with `LLMDBD_*` variables on top."""
    file = Path(path) if path is not None else Path((env or os.environ).get(ENV_PREFIX + "CONFIG", DEFAULT_PATH))
    doc: dict[str, Any] = {}
    try:
        doc = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if path is not None:
            raise ConfigError(f"{file}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: invalid TOML: {exc}") from None
    _apply_env(doc, env if env is not None else dict(os.environ))
    try:
        config = msgspec.convert(doc, Config, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{file}: {_describe(exc)}") from None
    problems = _check(config)
    if problems:
        raise ConfigError(f"{file}: " + "; ".join(problems))
    return config, file


def _apply_env(doc: dict[str, Any], env: dict[str, str]) -> None:
    """`LLMDBD_STATE_DIR` → `state_dir`, `LLMDBD_UPSTREAM_POLL_INTERVAL` → `upstream.poll_interval`, ..."""
    tables = {f.encode_name for f in msgspec.structs.fields(Upstream)}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key.startswith("upstream_") and key[len("upstream_") :] in tables:
            doc.setdefault("upstream", {})[key[len("upstream_") :]] = value
        elif key == "patch_dirs":
            doc[key] = [p for p in value.split(os.pathsep) if p]
        else:
            doc[key] = value


def _describe(exc: msgspec.ValidationError) -> str:
    """msgspec's message, said in the config file's terms: which key, and what is wrong with it."""
    message, _, where = str(exc).partition(" - at `$")
    where = where.rstrip("`").lstrip(".")
    if message.startswith("Object contains unknown field"):
        return f"unknown key {message.split('`')[1]!r}" + (f" in [{where}]" if where else "")
    return f"key {where!r}: {message}" if where else message


def _check(config: Config) -> list[str]:
    problems = []
    if config.keep < 1:
        problems.append("key 'keep': must be at least 1")
    if config.debounce_ms < 0:
        problems.append("key 'debounce_ms': must not be negative")
    if config.upstream.poll_interval < 0:
        problems.append("key 'upstream.poll_interval': must not be negative")
    if not 0 < config.upstream.max_shrink <= 1:
        problems.append("key 'upstream.max_shrink': must be in (0, 1]")
    if not config.upstream.url.startswith(("https://", "http://")):
        problems.append(f"key 'upstream.url': {config.upstream.url!r} is not an http(s) URL")
    return problems
