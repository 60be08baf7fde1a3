"""The daemon's configuration: a TOML file, every key also settable by an `LLMDBD_*` environment variable.

    state_dir = "/var/lib/llmdb"            # LLMDBD_STATE_DIR
    patch_dirs = ["/etc/llmdb/patches.d"]   # LLMDBD_PATCH_DIRS (os.pathsep-separated)
    [upstreams]                             # the upstream catalogs (docs/merging.md)
    precedence = ["models.dev", "litellm"]  # LLMDBD_UPSTREAMS (comma-separated), highest first; the ones used
                                            # (default: models.dev, litellm, openrouter, genai-prices)
    [upstreams."models.dev"]                # one table per upstream, by its registry name
    poll_interval = 3600                    # LLMDBD_UPSTREAMS_MODELS_DEV_POLL_INTERVAL
    [upstreams.litellm]                     # LiteLLM's model map: the same settings
    poll_interval = 3600                    # LLMDBD_UPSTREAMS_LITELLM_POLL_INTERVAL
    [publish]                               # a fleet's leader: upload each snapshot (docs/fleet.md)
    targets = ["s3://bucket/llmdb/"]        # LLMDBD_PUBLISH_TARGETS (comma-separated)
    [follow]                                # a fleet's follower: the leader's catalog replaces the upstreams
    url = "s3://bucket/llmdb/"              # LLMDBD_FOLLOW_URL
    [s3]
    endpoint = "http://127.0.0.1:9000"      # LLMDBD_S3_ENDPOINT; credentials from AWS_* variables

The form before `[upstreams]` still reads: `upstreams = [...]` (the precedence list) with `[upstream]` (models.dev)
and `[litellm]` tables and their `LLMDBD_UPSTREAM_*` / `LLMDBD_LITELLM_*` variables, each table or variable
with a `ConfigDeprecation` warning naming the new form. A missing file means defaults; a bad file or value is
refused with a message naming the key.
"""

from __future__ import annotations

import os
import re
import tomllib
import warnings
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec
from msgspec import Struct, field

from llmdbd.engine.filters import Globs, Rules
from llmdbd.errors import ConfigError
from llmdbd.sources.upstreams import DEFAULT_PRECEDENCE, UPSTREAMS, env_of, table_of

DEFAULT_PATH = Path("/etc/llmdb/llmdbd.toml")
ENV_PREFIX = "LLMDBD_"


class ConfigDeprecation(UserWarning):
    """A configuration form that still works and will not always: the message names the form to write."""


class Upstream(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the daemon gets one upstream catalog (its table: `[upstreams."models.dev"]`, `[upstreams.litellm]`)."""

    url: str
    """Defaults to the upstream's own (`UpstreamKind.default_url`)."""
    poll_interval: float = 0.0
    """Seconds between polls; 0 turns polling off (the default)."""
    file: str | None = None
    """A local copy to use when there is no cached upstream body. With no upstream data at all (none cached,
    no file), builds start from the packaged catalog."""
    allow_http: bool = False
    """Allow plain http:// for hosts other than loopback."""
    max_bytes: int = 64 * 1024 * 1024
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_shrink: float = 0.5
    """Reject a body whose model count shrinks by more than this share of the last good one."""
    backoff_max: float = 3600.0


class Publish(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where each published snapshot is also uploaded (`[publish]`): `s3://bucket/prefix/` or `file:///dir/`."""

    targets: list[str] = []
    retry_max: float = 60.0
    """The longest wait between retries of a failed upload (seconds; retries back off from 1 s)."""


class Follow(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The leader this daemon follows (`[follow]`): its catalog replaces the upstream catalogs."""

    url: str | None = None
    """`https://host/prefix/`, `s3://bucket/prefix/` or `file:///dir/`: where the leader's `manifest.json` is."""
    poll_interval: float = 30.0
    timeout: float = 30.0
    max_bytes: int = 1 << 30
    allow_http: bool = False
    """Allow plain http:// for hosts other than loopback."""


class S3(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings of `s3://` targets and follow URLs (`[s3]`); credentials come from the standard `AWS_*`
    variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`)."""

    endpoint: str | None = None
    """An S3-compatible store's endpoint (MinIO, R2, GCS's S3 API); None: AWS (or `AWS_ENDPOINT_URL`)."""
    region: str | None = None
    allow_http: bool | None = None
    """Allow a plain http:// endpoint; None (unset): as `AWS_ALLOW_HTTP` says, else no."""


class Profile(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """One environment's view of the catalog (`[profiles.<name>]`), on top of the base: its own allow and deny
    (with the base's: a model either denies is denied), models excluded, and overrides (a patch document)."""

    allow: dict[str, Globs] | None = None
    deny: dict[str, Globs] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    overrides: dict[str, Any] | None = None


_TABLES: dict[str, type[Struct]] = {"publish": Publish, "follow": Follow, "s3": S3}
"""The other tables whose keys `LLMDBD_<TABLE>_<KEY>` variables set."""


class Config(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    state_dir: str = "/var/lib/llmdb"
    patch_dirs: list[str] = field(default_factory=lambda: ["/etc/llmdb/patches.d"])
    overrides_module: str | None = None
    keep: int = 5
    """Snapshots retained in `state_dir/snapshots/`."""
    history_days: int = 0
    """Days of change events kept in `state_dir/history.sqlite3` (older ones fold into a baseline); 0: all."""
    debounce_ms: int = 200
    log_format: Literal["auto", "json", "console"] = "auto"
    upstreams: list[str] = field(default_factory=lambda: list(DEFAULT_PRECEDENCE))
    """Upstream catalogs used, highest precedence first; leave one out to not use it."""
    consensus: bool = True
    """The upstreams check each other: a price or limit two agree on overrules the one precedence would pick
    (`engine.agree`); false: plain precedence."""
    sources: dict[str, Upstream] = field(default_factory=lambda: _sources({}))
    """Each upstream's settings by name, read from its table (`[upstreams.<name>]`); use `settings(name)`."""
    allow: dict[str, Globs] | None = None
    deny: dict[str, Globs] = field(default_factory=dict)
    overrides: dict[str, Any] | None = None
    """A patch document (`provider`, `models`, `exclude`) applied above patch files."""
    profiles: dict[str, Profile] = field(default_factory=dict)
    """Compiled into every snapshot; a reader picks one with `LLMDB_PROFILE` or `Catalog(profile=...)`."""
    publish: Publish = field(default_factory=Publish)
    follow: Follow = field(default_factory=Follow)
    s3: S3 = field(default_factory=S3)

    def rules(self) -> Rules:
        return Rules(allow=self.allow, deny=self.deny)

    def profile_definitions(self) -> dict[str, dict[str, Any]]:
        """`[profiles]` as plain tables (unset keys left out): what the snapshot records of each."""
        return {name: msgspec.to_builtins(profile) for name, profile in self.profiles.items()}

    def settings(self, name: str) -> Upstream:
        """The settings of upstream `name` (a key of `UPSTREAMS`)."""
        return self.sources[name]

    def with_inputs(self, files: dict[str, str | None], patch_dirs: list[str], overrides_module: str | None) -> Config:
        """This configuration with upstream `files` (by name; None keeps the configured one), more patch
        directories and another overrides module: what `llmdbd build`/`check` flags add."""
        sources = {name: msgspec.structs.replace(s, file=files.get(name) or s.file) for name, s in self.sources.items()}
        return msgspec.structs.replace(
            self,
            sources=sources,
            patch_dirs=[*self.patch_dirs, *patch_dirs],
            overrides_module=overrides_module or self.overrides_module,
        )


def _sources(tables: dict[str, Any], origins: _Origins | None = None) -> dict[str, Upstream]:
    """Every upstream's settings from its table (by upstream name; the defaults where there is none);
    `ConfigError` naming the table and key of a bad value."""
    out = {}
    for name, kind in UPSTREAMS.items():
        table = tables.get(name, {})
        try:
            if not isinstance(table, dict):
                raise msgspec.ValidationError(f"Expected `object`, got `{type(table).__name__}`")
            out[name] = msgspec.convert({"url": kind.default_url, **table}, Upstream, strict=False)
        except msgspec.ValidationError as exc:
            raise ConfigError(_describe(exc, origins or _Origins(None), f"upstreams.{name}")) from None
    return out


def _upstream_tables(doc: dict[str, Any], origins: _Origins) -> dict[str, Any]:
    """Take the upstreams' tables out of the file's `doc`, by upstream name: `[upstreams.<name>]`, and the older
    `[upstream]` and `[litellm]` (with a deprecation warning); `[upstreams] precedence` becomes `upstreams`."""
    tables: dict[str, Any] = {}
    given = doc.get("upstreams")
    if isinstance(given, dict):
        given = dict(given)
        precedence = given.pop("precedence", None)
        for name, table in given.items():
            if name not in UPSTREAMS:
                raise ConfigError(
                    f"{origins.of('upstreams.' + name)}: unknown upstream (known: {', '.join(UPSTREAMS)})"
                )
            tables[name] = table
        if precedence is not None:
            doc["upstreams"] = precedence
            origins.alias("upstreams", "upstreams.precedence")
        else:  # the default upstreams, then any other with a table, in the file's order
            doc["upstreams"] = [*DEFAULT_PRECEDENCE, *(n for n in tables if n not in DEFAULT_PRECEDENCE)]
    for kind in UPSTREAMS.values():
        legacy = kind.legacy_table
        if legacy is None or legacy not in doc:
            continue
        if kind.name in tables:
            raise ConfigError(f"{origins.file}: [{legacy}] and [{table_of(kind.name)}] both set {kind.name}: keep one")
        tables[kind.name] = doc.pop(legacy)
        origins.alias(f"upstreams.{kind.name}", legacy)
        warnings.warn(
            f"{origins.file}: [{legacy}] is deprecated: write [{table_of(kind.name)}] (the same keys)",
            ConfigDeprecation,
            stacklevel=3,
        )
    return tables


FLAGS = {"state_dir": "--state-dir"}
"""Keys that `llmdbd` command-line flags set, with the flag's name."""
_NOT_SETTINGS = frozenset({"CONFIG", "PACKAGED_SNAPSHOT"})
"""`LLMDBD_*` variables that are not configuration keys."""


def load(
    path: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    flags: dict[str, Any] | None = None,
) -> tuple[Config, Path | None]:
    """The configuration, and the file it read (None when there was none).

    Precedence, highest first: command-line `flags` > `LLMDBD_*` variables of `env` > the file (`path`, else
    `$LLMDBD_CONFIG`, else /etc/llmdb/llmdbd.toml, which may be missing) > defaults. Every error names the
    origin of the bad value: the flag, the variable, or the file and key."""
    env = dict(os.environ) if env is None else env
    file: Path | None = config_file(path, env)
    doc: dict[str, Any] = {}
    try:
        doc = tomllib.loads(config_file(path, env).read_text(encoding="utf-8"))
    except FileNotFoundError:
        if path is not None:
            raise ConfigError(f"{file}: no such file") from None
        file = None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: invalid TOML: {exc}") from None
    origins = _Origins(file)
    if "sources" in doc:
        raise ConfigError(_describe(msgspec.ValidationError("Object contains unknown field `sources`"), origins))
    tables = _upstream_tables(doc, origins)
    _apply_env(doc, env, origins, tables)
    for key, value in (flags or {}).items():
        if value is not None:
            doc[key] = value
            origins.set(key, f"command-line flag {FLAGS.get(key, key)}")
    try:
        config = msgspec.convert(doc, Config, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(_describe(exc, origins)) from None
    config = msgspec.structs.replace(config, sources=_sources(tables, origins))
    problems = [f"{origins.of(key)}: {reason}" for key, reason in _check(config)]
    if problems:
        raise ConfigError("; ".join(problems))
    return config, file


def config_file(path: str | os.PathLike[str] | None, env: dict[str, str]) -> Path:
    """The file `load` reads: `path`, else `$LLMDBD_CONFIG`, else /etc/llmdb/llmdbd.toml."""
    return Path(path) if path is not None else Path(env.get(ENV_PREFIX + "CONFIG", DEFAULT_PATH))


class _Origins:
    """Where each configuration key's value came from, to name it in errors."""

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self._by_key: dict[str, str] = {}
        self._shown: dict[str, str] = {f"upstreams.{name}": table_of(name) for name in UPSTREAMS}
        """Key prefix → how the file spells it (a quoted table name, an older table)."""

    def alias(self, key: str, shown: str) -> None:
        """Name the file's `key` (and the keys under it) as `shown` in messages."""
        self._shown[key] = shown

    def set(self, key: str, origin: str) -> None:
        self._by_key[key] = origin

    def given(self, key: str) -> str | None:
        """The variable or flag that set `key`, or None when it came from the file or the defaults."""
        return self._by_key.get(key) or self._by_key.get(key.split(".", 1)[0])  # or set as a whole table

    def of(self, key: str) -> str:
        """`environment variable LLMDBD_KEEP`, `command-line flag --state-dir`, or `FILE: key 'keep'`."""
        found = self.given(key)
        if found is not None:
            return found
        for prefix, shown in self._shown.items():
            if key == prefix or key.startswith(prefix + "."):
                key = shown + key[len(prefix) :]
                break
        return f"{self.file}: key {key!r}" if self.file is not None else f"key {key!r}"


def _apply_env(doc: dict[str, Any], env: dict[str, str], origins: _Origins, upstreams: dict[str, Any]) -> None:
    """`LLMDBD_STATE_DIR` → `state_dir`, `LLMDBD_UPSTREAMS_MODELS_DEV_POLL_INTERVAL` → the models.dev upstream's
    `poll_interval` (into `upstreams`, by upstream name), ..."""
    settings = {f.encode_name for f in msgspec.structs.fields(Upstream)}
    by_env = {env_of(name): name for name in UPSTREAMS}
    legacy = {kind.legacy_table: kind.name for kind in UPSTREAMS.values() if kind.legacy_table}
    tables = {table: {f.encode_name for f in msgspec.structs.fields(kind)} for table, kind in _TABLES.items()}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name[len(ENV_PREFIX) :] in _NOT_SETTINGS:
            continue
        key = name[len(ENV_PREFIX) :].lower()
        origin = f"environment variable {name}"
        table, _, setting = key.partition("_")
        upstream = _upstream_setting(key, by_env, settings)
        if upstream is not None:
            upstreams.setdefault(upstream[0], {})[upstream[1]] = value
            origins.set(f"upstreams.{upstream[0]}.{upstream[1]}", origin)
        elif table in legacy and setting in settings:
            upstreams.setdefault(legacy[table], {})[setting] = value
            origins.set(f"upstreams.{legacy[table]}.{setting}", origin)
            new = f"{ENV_PREFIX}UPSTREAMS_{env_of(legacy[table])}_{setting.upper()}"
            warnings.warn(f"{origin} is deprecated: set {new}", ConfigDeprecation, stacklevel=3)
        elif key == "publish_targets":
            doc.setdefault("publish", {})["targets"] = [p.strip() for p in value.split(",") if p.strip()]
            origins.set("publish.targets", origin)
        elif setting in tables.get(table, ()):
            doc.setdefault(table, {})[setting] = value
            origins.set(f"{table}.{setting}", origin)
        elif key == "upstreams":
            doc[key] = [p.strip() for p in value.split(",") if p.strip()]
            origins.set(key, origin)
        elif key == "patch_dirs":
            doc[key] = [p for p in value.split(os.pathsep) if p]
            origins.set(key, origin)
        else:
            doc[key] = value
            origins.set(key, origin)


def _upstream_setting(key: str, by_env: dict[str, str], settings: set[str]) -> tuple[str, str] | None:
    """(upstream, setting) of an `upstreams_<name>_<setting>` variable key, or None."""
    if not key.startswith("upstreams_"):
        return None
    rest = key[len("upstreams_") :].upper()
    for env_name, upstream in by_env.items():
        if rest.startswith(env_name + "_") and rest[len(env_name) + 1 :].lower() in settings:
            return upstream, rest[len(env_name) + 1 :].lower()
    return None


def _describe(exc: msgspec.ValidationError, origins: _Origins, table: str = "") -> str:
    """msgspec's message, said in the configuration's terms: whose value, and what is wrong with it (`table`:
    the table the converted value was)."""
    message, _, where = str(exc).partition(" - at `$")
    where = ".".join(p for p in (table, where.rstrip("`").lstrip(".")) if p)
    if message.startswith("Object contains unknown field"):
        key = message.split("`")[1]
        path = f"{where}.{key}" if where else key
        origin = origins.given(path)
        if origin is not None:
            return f"{origin}: unknown setting"
        return f"{origins.file}: unknown key {path!r}" if origins.file else f"unknown key {path!r}"
    if not where:
        return f"{origins.file or 'configuration'}: {message}"
    key = re.sub(r"\[\d+\]$", "", where)
    return f"{origins.of(key)}: {message}"


def _check(config: Config) -> list[tuple[str, str]]:
    """(key, reason) for each value msgspec's types cannot rule out."""
    problems = []
    if config.keep < 1:
        problems.append(("keep", "must be at least 1"))
    if config.history_days < 0:
        problems.append(("history_days", "must not be negative (0 keeps everything)"))
    if config.debounce_ms < 0:
        problems.append(("debounce_ms", "must not be negative"))
    for name in config.upstreams:
        if name not in UPSTREAMS:
            problems.append(("upstreams", f"unknown upstream {name!r} (known: {', '.join(UPSTREAMS)})"))
    if len(set(config.upstreams)) != len(config.upstreams):
        problems.append(("upstreams", "names an upstream twice"))
    for name, settings in config.sources.items():
        table = f"upstreams.{name}"
        if settings.poll_interval < 0:
            problems.append((f"{table}.poll_interval", "must not be negative"))
        if not 0 < settings.max_shrink <= 1:
            problems.append((f"{table}.max_shrink", "must be in (0, 1]"))
        try:
            url = urlsplit(settings.url)
            valid = url.scheme in ("https", "http") and bool(url.hostname)
        except ValueError:
            valid = False
        if not valid:
            problems.append((f"{table}.url", f"{settings.url!r} is not an http(s) URL"))
    for name in config.profiles:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
            problems.append((f"profiles.{name}", "a profile name is letters, digits, '_', '.', '-' (at most 64)"))
    for target in config.publish.targets:
        if urlsplit(target).scheme not in ("s3", "file") or not urlsplit(target).netloc + urlsplit(target).path:
            problems.append(("publish.targets", f"{target!r} is not an s3:// or file:// URL"))
    if config.publish.retry_max <= 0:
        problems.append(("publish.retry_max", "must be positive"))
    if config.follow.url is not None:
        if urlsplit(config.follow.url).scheme not in ("s3", "file", "https", "http"):
            problems.append(("follow.url", f"{config.follow.url!r} is not an https://, s3:// or file:// URL"))
        if config.follow.url in config.publish.targets:
            problems.append(("follow.url", "is also a publish target: a daemon cannot follow itself"))
    if config.follow.poll_interval <= 0:
        problems.append(("follow.poll_interval", "must be positive"))
    return problems
