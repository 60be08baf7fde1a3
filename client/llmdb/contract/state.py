"""A daemon's status file: `Status` (what it serves and refused), its liveness, and its lines for people. The
state directory's paths are `paths`."""

import os
from typing import TYPE_CHECKING, Annotated, Literal

import msgspec
from msgspec import Struct

from llmdb.contract.paths import STATUS_FILE
from llmdb.schema import BuildIssue, SourceInfo

if TYPE_CHECKING:
    from pathlib import Path


class HeldPrice(Struct, kw_only=True):
    """A price an upstream update moved more than tenfold, held back at its last value (`before`) until a patch
    sets the new one (`after`) or a second upstream gives it (docs/merging.md, "Jumps")."""

    model: str
    """The model's spec (`openai:gpt-4o`)."""
    field: str
    """`cost.input`, `cost.output`, `cost.cache_read`, `cost.cache_write` or `cost.cache_write_1h`."""
    before: Annotated[float, msgspec.Meta(gt=0)]
    after: Annotated[float, msgspec.Meta(gt=0)]
    since: str
    """When the update that moved it was accepted (ISO 8601)."""

    def __str__(self) -> str:
        ratio = max(self.after / self.before, self.before / self.after)
        return (
            f"{self.model} {self.field}: held at {self.before!r}, the update says {self.after!r} ({ratio:.0f}x),"
            f" since {self.since}"
        )


class UpstreamStatus(Struct, kw_only=True, omit_defaults=True):
    """One upstream catalog as the daemon last got it."""

    source: Literal["none", "cache", "http"]
    """Where its data comes from: nothing fetched (its `file`, or the packaged catalog), the cache, a fetch."""
    url: str | None = None
    etag: str | None = None
    last_success: str | None = None
    last_result: str | None = None
    last_failure: str | None = None
    error: str | None = None
    held: list[HeldPrice] = []
    """Prices of its last update held back (`HeldPrice`)."""


class PublishStatus(Struct, kw_only=True, omit_defaults=True):
    """What one `[publish]` target holds of this daemon's snapshots."""

    url: str
    epoch: int | None = None
    content_hash: str | None = None
    sha256: str | None = None
    uploaded_at: str | None = None
    ms: float | None = None
    error: str | None = None
    failures: int = 0
    retry_in: float | None = None


class LeaderSeen(Struct, kw_only=True, omit_defaults=True):
    """The leader's manifest as a follower last read it."""

    content_hash: str
    epoch: int
    published_at: str
    host: str


class Following(Struct, kw_only=True, omit_defaults=True):
    """The leader's file a follower verified and builds from."""

    content_hash: str
    epoch: int
    sha256: str
    applied_at: str | None = None


class FollowStatus(Struct, kw_only=True, omit_defaults=True):
    """A follower's view of its leader: the hash last seen, the one followed, whether it is served."""

    url: str
    leader: LeaderSeen | None = None
    following: Following | None = None
    serves_leader: bool | None = None
    differs_because: str | None = None
    lag_s: float | None = None
    checked_at: str | None = None
    stale_s: float | None = None
    error: str | None = None
    failures: int = 0


class RejectedFile(Struct, kw_only=True):
    """A patch file whose current version is refused, and what is used instead."""

    file: str
    errors: list[str]
    keeping: str
    """`last accepted version (sha256:…)`, or `nothing: never accepted`."""


class HistoryStatus(Struct, kw_only=True, omit_defaults=True):
    """The change history: the epoch last recorded, or the error that stopped the last record."""

    path: str
    epoch: int | None = None
    error: str | None = None


class Status(Struct, kw_only=True):
    """`state_dir/status.json`, written by the daemon after every build and fleet event and when it stops; read
    by `llmdbd status`, `llmdb info` and `llmdbd fleet-status`. Times are `iso` strings."""

    state: Literal["running", "stopped", "gone"]
    """`gone`: the file says running but its process is not (set by `live`, never written)."""
    pid: int
    host: str | None = None
    """None in a file an older daemon wrote: taken as this host's."""
    started_at: str | None = None
    updated_at: str | None = None
    stopped_at: str | None = None
    epoch: int | None = None
    """What is served (None before the first publish)."""
    content_hash: str | None = None
    built_at: str | None = None
    trigger: str = ""
    """What started the last build (`start`, `patches_changed`, `sighup`, ...)."""
    sources: list[SourceInfo] = []
    upstream: dict[str, UpstreamStatus] = {}
    rejected_files: list[RejectedFile] = []
    history: HistoryStatus | None = None
    publish: list[PublishStatus] | None = None
    follow: FollowStatus | None = None
    build_issue_count: int = 0
    build_issues: list[BuildIssue] = []
    down: str | None = None
    """Why the daemon is not running (set by `live`, never written)."""


def liveness(status: Status, *, check_pid: bool = True) -> str | None:
    """None when the daemon that wrote `status` is running; else why not (stopped, or its process is gone).
    `check_pid=False` for a status file written on another host, whose process cannot be looked up here."""
    if status.state == "stopped":
        return f"stopped at {status.stopped_at}"
    if check_pid and not _alive(status.pid):
        return f"process {status.pid} is gone (killed, or the machine restarted)"
    return None


def live(status: Status, *, check_pid: bool = True) -> Status:
    """`status` as it stands now: `down` says why the daemon is not running, and `state` is `gone` when the file
    says running but its process is not (killed, or the machine restarted)."""
    down = liveness(status, check_pid=check_pid)
    if down is None:
        return status
    return msgspec.structs.replace(status, state="gone" if status.state == "running" else status.state, down=down)


def status_lines(status: Status) -> list[str]:
    """`status` (as `live` gives it) for a person: `llmdbd status` prints these, `llmdb info` the fleet's."""
    state = f"not running ({status.down})" if status.down else f"running, pid {status.pid}, since {status.started_at}"
    lines = [
        f"llmdbd: {state}",
        f"serving: epoch {status.epoch}, content hash {status.content_hash}, built {status.built_at}",
        f"last build: {status.updated_at} ({status.trigger}), {status.build_issue_count} issue(s)",
    ]
    for name, up in status.upstream.items():
        lines.append(f"upstream {name}: " + ", ".join(_pairs(up, skip={"held"})))
        lines += [f"held back ({name}): {held}" for held in up.held]
    return lines + fleet_lines(status) + issue_lines(status)


def fleet_lines(status: Status) -> list[str]:
    """A leader's publish targets and a follower's leader (hash seen, whether served, staleness, lag)."""
    lines = [f"publish {t.url}: " + ", ".join(_pairs(t, skip={"url"})) for t in status.publish or ()]
    follow = status.follow
    if follow is not None:
        serves = "serves the leader's catalog" if follow.serves_leader else follow.differs_because or "not yet"
        lines.append(
            f"follow {follow.url}: leader {follow.leader.content_hash if follow.leader else '-'}; {serves};"
            f" checked {follow.checked_at or 'never'} ({follow.stale_s} s before this status), lag {follow.lag_s} s"
            + (f"; error: {follow.error}" if follow.error else "")
        )
    return lines


def issue_lines(status: Status) -> list[str]:
    """Each rejected patch file with its errors, then the build's other issues (a rejected file's are not
    repeated)."""
    rejected = {r.file for r in status.rejected_files}
    lines = [f"rejected: {r.file} (keeping {r.keeping}): {'; '.join(r.errors)}" for r in status.rejected_files]
    for issue in status.build_issues:
        if issue.file is None or issue.file not in rejected:
            lines.append(str(issue))
    return lines


def _pairs(value: Struct, skip: frozenset[str] | set[str] = frozenset()) -> list[str]:
    return [f"{k} {v}" for k, v in msgspec.to_builtins(value).items() if k not in skip]


def _alive(pid: int) -> bool:
    """A process `pid` exists and is an llmdbd (a recycled pid of another program does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user (the systemd service's dynamic user)
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"llmdbd" in cmdline.read()
    except OSError:
        return True  # no /proc to tell: trust the pid


def read_status(state_dir: "str | Path") -> Status | None:
    """The daemon's status file in `state_dir`, or None when there is none or it is unreadable."""
    try:
        with open(os.path.join(state_dir, STATUS_FILE), "rb") as file:
            return decode_status(file.read())
    except (OSError, ValueError):
        return None


def decode_status(data: bytes) -> Status:
    """A status file's bytes as a `Status`; `ValueError` saying what is wrong with them."""
    try:
        return msgspec.json.decode(data, type=Status)
    except msgspec.DecodeError as exc:  # ValidationError included
        raise ValueError(f"not a status file: {exc}") from None
