"""Client figures: lookups against a plain-dict floor, first lookups, filters, cost, import time and memory.

python -m bench.client
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path
from typing import Any

import msgspec

import llmdb
from bench import install
from llmdb import Catalog
from llmdb.schema import Model

SPEC = "openai:gpt-4o"
USAGE = {
    "prompt_tokens": 10000,
    "completion_tokens": 2000,
    "total_tokens": 12000,
    "prompt_tokens_details": {"cached_tokens": 4000, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
}
"""A Chat Completions usage as `response.json()["usage"]` gives it."""


def per_call(stmt: str, env: dict[str, Any], number: int = 100_000) -> float:
    """Best of 7 repeats, in nanoseconds per call."""
    return min(timeit.repeat(stmt, globals=env, number=number, repeat=7)) / number * 1e9


def fresh(code: str, runs: int = 11) -> list[dict[str, Any]]:
    """Run `code` in new interpreters; each prints one JSON object. The package's bytecode is compiled first, as
    pip does at install (with PYTHONDONTWRITEBYTECODE set, every import would compile from source)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(llmdb.__file__).parent)], check=True)
    out = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        out.append(json.loads(done.stdout))
    return out


def run() -> dict[str, float]:
    catalog = Catalog(llmdb.packaged_path())
    snap = catalog.snapshot
    model = catalog.get(SPEC)
    plain = {spec: model for spec in snap.specs}
    i = snap.ordinal(SPEC) or 0
    start = snap.file.records
    record = bytes(snap.file.view[start + snap.lookup.offsets[i] : start + snap.lookup.offsets[i + 1]])
    decoder = msgspec.msgpack.Decoder(Model)
    env = {
        "plain": plain,
        "c": catalog,
        "llmdb": llmdb,
        "decoder": decoder,
        "record": record,
        "SPEC": SPEC,
        "USAGE": USAGE,
    }
    llmdb.default_catalog()
    results = {
        "dict lookup (ns)": per_call("plain[SPEC]", env),
        "msgspec decode of one record (ns)": per_call("decoder.decode(record)", env, 20_000),
        "llmdb.get, repeated (ns)": per_call("llmdb.get(SPEC)", env),
        "Catalog.get, repeated (ns)": per_call("c.get(SPEC)", env),
        "llmdb.supports(spec, 'tools') (ns)": per_call("llmdb.supports(SPEC, 'tools')", env),
        "llmdb.cost(...) (ns)": per_call("llmdb.cost(SPEC, input_tokens=1000, output_tokens=200)", env, 20_000),
        "llmdb.cost(..., cache_read_tokens=...) (ns)": per_call(
            "llmdb.cost(SPEC, input_tokens=10000, output_tokens=2000, cache_read_tokens=4000)", env, 20_000
        ),
        "llmdb.usage(OpenAI usage dict) (ns)": per_call("llmdb.usage(USAGE)", env, 20_000),
        "llmdb.cost(SPEC, usage=OpenAI usage dict) (ns)": per_call("llmdb.cost(SPEC, usage=USAGE)", env, 20_000),
    }
    firsts = []
    for _ in range(5):
        cold = Catalog(llmdb.packaged_path())
        specs = cold.snapshot.specs
        start = time.perf_counter()
        for spec in specs:
            cold.get(spec)
        firsts.append((time.perf_counter() - start) / len(specs) * 1e6)
    results["first get of every model after open, per model (us)"] = statistics.median(firsts)
    colds, warms = [], []
    for _ in range(5):
        cold = Catalog(llmdb.packaged_path())
        cold.snapshot  # noqa: B018  (open and verify outside the timing)
        start = time.perf_counter()
        found = cold.models(require={"tools": True, "json_schema": True})
        colds.append((time.perf_counter() - start) * 1e3)
        start = time.perf_counter()
        cold.models(require={"tools": True, "json_schema": True})
        warms.append((time.perf_counter() - start) * 1e3)
    results[f"models(require tools+json_schema), {len(found)} results, cold (ms)"] = statistics.median(colds)
    results["models(require tools+json_schema), warm (ms)"] = statistics.median(warms)
    start = time.perf_counter()
    for _ in range(20):
        catalog.select(require=["tools", "json_schema"], prefer=["anthropic", "openai"])
    results["select(require tools+json_schema, prefer 2 providers) (ms)"] = (time.perf_counter() - start) / 20 * 1e3
    start = time.perf_counter()
    for _ in range(20):
        Catalog(llmdb.packaged_path()).snapshot  # noqa: B018
    results["open + verify + index of the packaged snapshot (ms)"] = (time.perf_counter() - start) / 20 * 1e3
    runs = fresh(install.IN_PROCESS)  # the same measurement as the install comparison's
    wall = statistics.median(r["wall"] for r in runs)
    results["import llmdb + open + first get, fresh interpreter (ms)"] = wall * 1e3
    results["resident memory after import and 1,000 lookups (MiB)"] = statistics.median(r["rss"] for r in runs) / 1024
    bare = fresh(
        "import json; rss = [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS')][0]; "
        "print(json.dumps({'rss': rss}))"
    )
    results["resident memory of a bare interpreter (MiB)"] = statistics.median(r["rss"] for r in bare) / 1024
    idle = fresh(
        "import json, resource, time, llmdb\n"
        "from llmdb import _freshness\n"
        "llmdb.get('openai:gpt-4o')\n"
        "r0, w0 = resource.getrusage(resource.RUSAGE_SELF), _freshness.checker_wakeups\n"
        "time.sleep(10)\n"
        "r1, w1 = resource.getrusage(resource.RUSAGE_SELF), _freshness.checker_wakeups\n"
        "cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)\n"
        "print(json.dumps({'cpu': cpu, 'wakeups': w1 - w0}))",
        runs=3,
    )
    results["idle client process: checker wake-ups per second"] = statistics.median(r["wakeups"] for r in idle) / 10
    results["idle client process: CPU per second idle (ms)"] = statistics.median(r["cpu"] for r in idle) * 100
    return results


def main() -> None:
    for name, value in run().items():
        print(f"{value:10.3f}  {name}")


if __name__ == "__main__":
    main()
