"""History figures: what recording adds to a one-patch rebuild, and how fast the history is read.

python -m bench.history
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

UPSTREAM = Path(__file__).resolve().parents[2] / "shared" / "upstream"

TARGETS = {
    "recording a one-patch rebuild's events, median (ms)": 20.0,
    "history(spec), warm, median (ms)": 1.0,
    "diff of the January and July catalogs (s)": 1.0,
}


def _record_ms(root: Path, rounds: int = 15) -> list[float]:
    """`History.record` timed inside a real `Rebuilder`, one patch file rewritten per rebuild."""
    from llmdbd import config as settings
    from llmdbd.daemon.rebuild import Rebuilder

    (root / "patches").mkdir(parents=True)
    path = root / "llmdbd.toml"
    path.write_text(f'state_dir = "{root / "state"}"\npatch_dirs = ["{root / "patches"}"]\n')
    config, _ = settings.load(path, env={})
    rebuilder = Rebuilder(config, path)
    rebuilder.prepare()
    rebuilder.rebuild("start")
    record = rebuilder.history.record
    times: list[float] = []

    def timed(*args: Any, **kwargs: Any) -> int:
        start = time.perf_counter()
        written = record(*args, **kwargs)
        times.append((time.perf_counter() - start) * 1e3)
        return written

    rebuilder.history.record = timed  # type: ignore[method-assign]
    for i in range(rounds):
        patch = {"models": [{"spec": "openai:gpt-4o", "cost": {"input": 1.0 + i}}]}
        (root / "patches" / "p.json").write_text(json.dumps(patch))
        rebuilder.rebuild("patch")
    return times


def _diff_s(root: Path) -> tuple[float, int]:
    """`llmdb.diff` of models.dev's January and July files, each built and written as a snapshot."""
    import llmdb
    from llmdbd import inputs
    from llmdbd.config import Config
    from llmdbd.output import snapshot

    paths = []
    for name in ("api-older.json", "api.json"):
        api = str(UPSTREAM / "models.dev" / name)
        catalog = inputs.catalog(
            Config(patch_dirs=[], upstreams=["models.dev"]).with_inputs({"models.dev": api}, [], None)
        )
        out = root / f"{name}.llmdb"
        out.write_bytes(snapshot.encode_snapshot(catalog, epoch=len(paths) + 1, built_at=time.time()))
        paths.append(out)
    reader = llmdb.Catalog(paths[1])
    times = []
    for _ in range(5):
        start = time.perf_counter()
        found = reader.diff(paths[0], paths[1])
        times.append(time.perf_counter() - start)
    return statistics.median(times), len(found.changed)


def run() -> dict[str, float]:
    import llmdb

    packaged = llmdb.Catalog(llmdb.packaged_path())
    reads = []
    for _ in range(200):
        start = time.perf_counter()
        packaged.history("openai:gpt-5")
        reads.append((time.perf_counter() - start) * 1e3)
    priced = []
    for _ in range(200):
        start = time.perf_counter()
        packaged.cost("deepseek:deepseek-chat", input_tokens=1000, output_tokens=100, at="2026-03-01")
        priced.append((time.perf_counter() - start) * 1e3)
    with tempfile.TemporaryDirectory() as tmp:
        records = _record_ms(Path(tmp) / "daemon")
        diff_s, changed = _diff_s(Path(tmp))
    return {
        "recording a one-patch rebuild's events, median (ms)": statistics.median(records),
        "recording a one-patch rebuild's events, max (ms)": max(records),
        "history(spec), warm, median (ms)": statistics.median(reads[10:]),
        "cost(spec, ..., at=date), median (ms)": statistics.median(priced[10:]),
        "diff of the January and July catalogs (s)": diff_s,
        "models changed between January and July": float(changed),
    }


def markdown(results: dict[str, float]) -> str:
    lines = ["| figure | value | target |", "| --- | ---: | --- |"]
    for name, value in results.items():
        bound = TARGETS.get(name)
        verdict = "" if bound is None else f"≤ {bound:g}: {'pass' if value <= bound else 'MISS'}"
        lines.append(f"| {name} | {value:,.3f} | {verdict} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run()))
