"""Real processes: one writer publishes 200 snapshots while 4 readers x 4 threads look up continuously."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PUBLISHES = 200
READERS = 4

WRITER = """
import sys
sys.path.insert(0, sys.argv[2])
from catalogs import make_catalog
from llmdbd.output.publish import publish
for epoch in range(1, int(sys.argv[3]) + 1):
    result = publish(make_catalog(float(epoch), extra_models=20), sys.argv[1], keep=3)
    assert result is not None and result.epoch == epoch, result
"""

READER = """
import json, sys, threading, time
from pathlib import Path
from llmdb._freshness import SnapshotHandle

state, last = Path(sys.argv[1]), int(sys.argv[2])
handle = SnapshotHandle(state / "catalog.llmdb")
errors, seen, lookups = [], set(), [0]

def work():
    previous = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            snap = handle.current()
            model = snap.model("t:m")
            # The record must belong to the mapping's own epoch: never a mix of two files.
            if model is None or model.cost.input != float(snap.epoch):
                errors.append(f"epoch {snap.epoch} served {model}")
            if snap.epoch < previous:
                errors.append(f"went back from {previous} to {snap.epoch}")
            previous = snap.epoch
            seen.add(snap.epoch)
            lookups[0] += 1
            if snap.epoch == last:
                return
        except Exception as exc:
            errors.append(repr(exc))
    errors.append(f"never reached epoch {last}; last {previous}")

threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"errors": errors[:10], "seen": len(seen), "final": handle.current().epoch, "lookups": lookups[0]}))
"""

pytestmark = pytest.mark.slow  # real daemons / processes (conftest.py)


def test_readers_see_only_whole_epochs_and_end_on_the_last(tmp_path: Path) -> None:
    tests = str(Path(__file__).parent)
    first = subprocess.run([sys.executable, "-c", WRITER, str(tmp_path), tests, "1"], check=True, timeout=60)
    assert first.returncode == 0
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(tmp_path), str(PUBLISHES + 1)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(READERS)
    ]
    writer = subprocess.run(
        [sys.executable, "-c", WRITER.replace("range(1,", "range(2,"), str(tmp_path), tests, str(PUBLISHES + 1)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert writer.returncode == 0, writer.stderr
    results = [json.loads(r.communicate(timeout=150)[0]) for r in readers]
    for result in results:
        assert result["errors"] == []
        assert result["final"] == PUBLISHES + 1
        assert result["lookups"] > 0
    assert sum(r["seen"] for r in results) > READERS  # readers really saw publishes happen, not just the last one
