"""Publishing into a state directory: atomic, idempotent on content, monotonic epochs, bounded history."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from catalogs import make_catalog

from llmdb._freshness import SnapshotHandle
from llmdb._snapshot import Snapshot
from llmdbd.output.publish import last_epoch, publish, retained


def test_publish_writes_catalog_and_history(tmp_path: Path) -> None:
    result = publish(make_catalog(1.0), tmp_path)
    assert result is not None and result.epoch == 1
    snap = Snapshot(tmp_path / "catalog.llmdb")
    assert snap.epoch == 1 and snap.content_hash == make_catalog(1.0).content_hash
    assert [p.name for p in retained(tmp_path)] == ["catalog.0000000001.llmdb"]
    assert oct((tmp_path / "catalog.llmdb").stat().st_mode & 0o777) == oct(0o644)
    assert not list(tmp_path.glob(".*.tmp"))


def test_same_content_publishes_nothing(tmp_path: Path) -> None:
    assert publish(make_catalog(1.0), tmp_path) is not None
    before = (tmp_path / "catalog.llmdb").stat()
    assert publish(make_catalog(1.0), tmp_path) is None
    after = (tmp_path / "catalog.llmdb").stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_epochs_grow_across_processes_and_after_the_catalog_is_deleted(tmp_path: Path) -> None:
    for price in (1.0, 2.0):
        code = (
            "import sys; sys.path.insert(0, sys.argv[2]); from catalogs import make_catalog; "
            "from llmdbd.output.publish import publish; "
            "print(publish(make_catalog(float(sys.argv[3])), sys.argv[1]).epoch)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path), str(Path(__file__).parent), str(price)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        assert out.stdout.strip() == str(int(price))
    (tmp_path / "catalog.llmdb").unlink()
    result = publish(make_catalog(3.0), tmp_path)
    assert result is not None and result.epoch == 3 and last_epoch(tmp_path) == 3


def test_history_keeps_the_last_n(tmp_path: Path) -> None:
    for i in range(6):
        publish(make_catalog(float(i)), tmp_path, keep=3)
    assert [p.name for p in retained(tmp_path)] == [f"catalog.{e:010d}.llmdb" for e in (4, 5, 6)]
    assert Snapshot(retained(tmp_path)[0]).model("t:m").cost.input == 3.0  # type: ignore[union-attr]


def test_the_old_file_is_marked_superseded_and_readers_switch(tmp_path: Path) -> None:
    publish(make_catalog(1.0), tmp_path)
    handle = SnapshotHandle(tmp_path / "catalog.llmdb", follow=False)
    first = handle.current()
    publish(make_catalog(2.0), tmp_path)
    assert first.superseded
    assert handle.current().epoch == 1  # lookups do not check freshness...
    assert handle.check().epoch == 2  # ...the checker does: the bit, with no wait for the fallback stat
    assert handle.current().epoch == 2


def test_the_checker_thread_serves_a_new_file_within_its_period(tmp_path: Path) -> None:
    publish(make_catalog(1.0), tmp_path)
    handle = SnapshotHandle(tmp_path / "catalog.llmdb")
    assert handle.current().epoch == 1
    publish(make_catalog(2.0), tmp_path)
    published = time.monotonic()
    while handle.current().epoch != 2 and time.monotonic() - published < 5:
        time.sleep(0.005)
    assert handle.current().epoch == 2  # the checker thread swapped it, no call of ours asked


def test_stale_temp_files_from_a_killed_publisher_are_removed(tmp_path: Path) -> None:
    publish(make_catalog(1.0), tmp_path)
    stale = tmp_path / ".catalog.llmdb.99999.tmp"
    stale.write_bytes(b"partial")
    publish(make_catalog(2.0), tmp_path)
    assert not stale.exists()
    assert os.path.getsize(tmp_path / "catalog.llmdb") > 0
