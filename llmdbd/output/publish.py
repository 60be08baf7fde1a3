"""Publishing snapshots atomically into a state directory, with monotonic epochs and retained earlier snapshots.

Protocol (docs/snapshot-format.md): write a temp file in the same directory, fsync it, rename it over
`catalog.llmdb`, fsync the directory, then set the superseded bit in the old file (readers' checker threads see
the rename at once through inotify, or this bit). A crash at any point leaves either the old or the new complete
file in place.
"""

from __future__ import annotations

import contextlib
import os
import struct
import time
from collections.abc import Iterator
from pathlib import Path

from msgspec import Struct

from llmdb import SnapshotError
from llmdb import contract as fmt
from llmdbd.engine import BuiltCatalog
from llmdbd.output.files import atomic_write, remove_stale_temps
from llmdbd.output.snapshot import Memo, encode_snapshot

CATALOG = fmt.CATALOG_FILE
EPOCH_FILE = "epoch"


class PublishResult(Struct, frozen=True, kw_only=True):
    path: str
    epoch: int
    content_hash: str
    size: int
    built_at: float


def read_header(path: Path) -> fmt.Header | None:
    """The header of the snapshot at `path`, or None if it is missing or not a snapshot."""
    try:
        return fmt.read_header(path)
    except SnapshotError:
        return None


def build_time() -> float:
    """Now, or `$SOURCE_DATE_EPOCH` for reproducible files."""
    fixed = os.environ.get("SOURCE_DATE_EPOCH")
    return float(fixed) if fixed else time.time()


def publish(
    catalog: BuiltCatalog, state_dir: str | os.PathLike[str], *, keep: int = 5, memo: Memo | None = None
) -> PublishResult | None:
    """Publish `catalog` as `state_dir/catalog.llmdb`; None (nothing written) if its content is already there.

    `memo` carries what the previous encoding can lend this one (see `snapshot.Memo`)."""
    state = Path(state_dir)
    (state / fmt.SNAPSHOTS_DIR).mkdir(parents=True, exist_ok=True)
    target = state / CATALOG
    current = read_header(target)
    if current is not None and current.content_hash == catalog.content_hash:
        return None
    epoch = last_epoch(state) + 1
    built_at = build_time()
    data = encode_snapshot(catalog, epoch=epoch, built_at=built_at, memo=memo)
    remove_stale_temps(state, CATALOG)
    with _superseding(target):
        atomic_write(target, data)
        atomic_write(state / EPOCH_FILE, f"{epoch}\n".encode())
        with contextlib.suppress(FileExistsError):
            os.link(target, fmt.retained_path(state, epoch))
        _prune(state, keep)
    return PublishResult(
        path=str(target), epoch=epoch, content_hash=catalog.content_hash, size=len(data), built_at=built_at
    )


def write_snapshot(
    catalog: BuiltCatalog, path: str | os.PathLike[str], *, epoch: int = 1, built_at: float | None = None
) -> PublishResult:
    """Write a snapshot file to an explicit path, atomically (for `llmdbd build --output` and images)."""
    target = Path(path)
    when = build_time() if built_at is None else built_at
    data = encode_snapshot(catalog, epoch=epoch, built_at=when)
    with _superseding(target):
        atomic_write(target, data)
    return PublishResult(
        path=str(target), epoch=epoch, content_hash=catalog.content_hash, size=len(data), built_at=when
    )


def last_epoch(state_dir: str | os.PathLike[str]) -> int:
    """The highest epoch this state directory has published: from the catalog, the epoch file and snapshots/."""
    state = Path(state_dir)
    epochs = [0]
    header = read_header(state / CATALOG)
    if header is not None:
        epochs.append(header.epoch)
    with contextlib.suppress(OSError, ValueError):
        epochs.append(int((state / EPOCH_FILE).read_text().strip()))
    epochs += fmt.retained_epochs(state)
    return max(epochs)


def retained(state_dir: str | os.PathLike[str]) -> list[Path]:
    """Retained snapshot files, oldest first."""
    return list(fmt.retained_epochs(Path(state_dir)).values())


@contextlib.contextmanager
def _superseding(target: Path) -> Iterator[None]:
    """Around replacing `target`: afterwards set the superseded bit in the file it replaced.

    The old file is opened before the rename, so the bit lands in the old inode that readers have mapped.
    """
    try:
        old: int | None = os.open(target, os.O_WRONLY)
    except OSError:
        old = None
    try:
        yield
        if old is not None:
            os.pwrite(old, struct.pack("<I", fmt.SUPERSEDED), fmt.FLAGS_OFFSET)
    finally:
        if old is not None:
            os.close(old)


def _prune(state: Path, keep: int) -> None:
    files = retained(state)
    for p in files[: max(0, len(files) - max(keep, 1))]:
        with contextlib.suppress(OSError):
            p.unlink()
