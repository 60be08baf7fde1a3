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


HOT = {
    "dict lookup (ns)": "plain[SPEC]",
    "llmdb.get, repeated (ns)": "llmdb.get(SPEC)",
    "Catalog.get, repeated (ns)": "c.get(SPEC)",
    "llmdb.supports(spec, 'tools') (ns)": "llmdb.supports(SPEC, 'tools')",
    "llmdb.cost(...) (ns)": "llmdb.cost(SPEC, input_tokens=1000, output_tokens=200)",
    "llmdb.cost(..., cache_read_tokens=...) (ns)": (
        "llmdb.cost(SPEC, input_tokens=10000, output_tokens=2000, cache_read_tokens=4000)"
    ),
    "llmdb.usage(OpenAI usage dict) (ns)": "llmdb.usage(USAGE)",
    "llmdb.cost(SPEC, usage=OpenAI usage dict) (ns)": "llmdb.cost(SPEC, usage=USAGE)",
}
"""The hot loops, measured in rounds that take each in turn (the floor beside each figure, not minutes apart)."""


def interleaved(stmts: dict[str, str], env: dict[str, Any], rounds: int = 7, number: int = 20_000) -> dict[str, float]:
    """Nanoseconds per call of each statement: the best of `rounds` rounds, each timing every statement once in
    turn, so that the machine's drift (2x within an hour here) falls on all of them alike."""
    best = dict.fromkeys(stmts, float("inf"))
    for _ in range(rounds):
        for name, stmt in stmts.items():
            best[name] = min(best[name], min(timeit.repeat(stmt, globals=env, number=number, repeat=3)) / number * 1e9)
    return best


def first_gets(rounds: int = 7) -> tuple[float, float]:
    """(first `get` of every model after open, msgspec's decode of every model's record), µs per model, in
    alternating rounds. Both keep what they decode (a first get caches the model), so both pay for new memory."""
    catalog = Catalog(llmdb.packaged_path())
    snap = catalog.snapshot
    start, offsets = snap.file.records, snap.lookup.offsets
    records = [bytes(snap.file.view[start + offsets[i] : start + offsets[i + 1]]) for i in range(snap.model_count)]
    decoder = msgspec.msgpack.Decoder(Model)
    specs = snap.specs
    gets, decodes = [], []
    for _ in range(rounds):
        begin = time.perf_counter()
        decoded = [decoder.decode(record) for record in records]
        decodes.append((time.perf_counter() - begin) / len(records) * 1e6)
        del decoded
        cold = Catalog(llmdb.packaged_path())
        cold.snapshot  # noqa: B018  (open and verify outside the timing)
        begin = time.perf_counter()
        for spec in specs:
            cold.get(spec)
        gets.append((time.perf_counter() - begin) / len(specs) * 1e6)
        cold.close()
        del cold
    return min(gets), min(decodes)


def cold_models(rounds: int = 5) -> tuple[float, float, float, int]:
    """(`models(require=[tools, json_schema])` cold in a just-opened catalog, the same warm, a list comprehension
    that decodes every model's record and keeps those with both: what a reader without the index's bitsets does),
    ms, and how many models match."""
    snap = Catalog(llmdb.packaged_path()).snapshot
    start, offsets = snap.file.records, snap.lookup.offsets
    records = [bytes(snap.file.view[start + offsets[i] : start + offsets[i + 1]]) for i in range(snap.model_count)]
    decoder = msgspec.msgpack.Decoder(Model)
    colds, warms, scans = [], [], []
    found = 0
    for _ in range(rounds):
        cold = Catalog(llmdb.packaged_path())
        cold.snapshot  # noqa: B018  (open and verify outside the timing)
        begin = time.perf_counter()
        found = len(cold.models(require={"tools": True, "json_schema": True}))
        colds.append((time.perf_counter() - begin) * 1e3)
        begin = time.perf_counter()
        cold.models(require={"tools": True, "json_schema": True})
        warms.append((time.perf_counter() - begin) * 1e3)
        cold.close()
        begin = time.perf_counter()
        scan = [
            m
            for m in (decoder.decode(record) for record in records)
            if m.capabilities.tools.enabled and m.capabilities.json.schema and m.status != "deprecated"
        ]
        scans.append((time.perf_counter() - begin) * 1e3)
        del scan
    return statistics.median(colds), statistics.median(warms), statistics.median(scans), found


def hosts_and_benchmarks(rounds: int = 5) -> dict[str, float]:
    """`hosts(name)` and `select(require tools, min_coding=60, order_by=cost)`, each cold (the first question in a
    just-opened catalog) and warm (asked again), ms."""

    def hosts(catalog: Catalog) -> object:
        return list(catalog.hosts("claude-sonnet-4-5"))  # every host's record read, as a caller showing them does

    def cheapest(catalog: Catalog) -> object:
        return catalog.select(require=["tools"], min_coding=60, order_by="cost")

    times: dict[str, list[float]] = {}
    for name, ask in (
        ("hosts(claude-sonnet-4-5)", hosts),
        ("select(require tools, min_coding=60, order_by=cost)", cheapest),
    ):
        for _ in range(rounds):
            catalog = Catalog(llmdb.packaged_path())
            catalog.snapshot  # noqa: B018  (open and verify outside the timing)
            for when in ("cold", "warm"):
                begin = time.perf_counter()
                ask(catalog)
                times.setdefault(f"{name}, {when} (ms)", []).append((time.perf_counter() - begin) * 1e3)
            catalog.close()
    return {name: statistics.median(values) for name, values in times.items()}


PUBLISHES = """
import gc, json, os, shutil, sys, tempfile, llmdb
def rss():
    return [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS')][0] / 1024
path = os.path.join(tempfile.mkdtemp(), "catalog.llmdb")
shutil.copy(llmdb.packaged_path(), path)
c = llmdb.Catalog(path)
specs = c.snapshot.specs
def work():
    for spec in specs[::3]:
        c.get(spec)
    c.models(require=["tools"]); c.supports("openai:gpt-4o", "tools"); c.get("gpt-4o"); c.explain("openai:gpt-4o")
work(); gc.collect(); sizes = [rss()]
for _ in range(4):
    shutil.copy(llmdb.packaged_path(), path + ".new"); os.replace(path + ".new", path)
    c.refresh(); work(); gc.collect(); sizes.append(rss())
print(json.dumps(sizes))
"""
"""A reader that asks for a third of the models, a filter, a name and provenance; then 4 publishes of the same
catalog, each followed by the same questions."""


def publishes() -> list[float]:
    done = subprocess.run([sys.executable, "-c", PUBLISHES], capture_output=True, text=True, check=True)
    sizes: list[float] = json.loads(done.stdout)
    return sizes


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
    llmdb.get(SPEC)
    results = interleaved(HOT, env)
    results["msgspec decode of one record (ns)"] = per_call("decoder.decode(record)", env, 20_000)
    first, decode = first_gets()
    results["first get of every model after open, per model (us)"] = first
    results["msgspec decode of every model's record, per model (us)"] = decode
    cold, warm, scan, found = cold_models()
    results[f"models(require tools+json_schema), {found} results, cold (ms)"] = cold
    results["models(require tools+json_schema), warm (ms)"] = warm
    results["list comprehension decoding every record, keeping tools+json_schema (ms)"] = scan
    results.update(hosts_and_benchmarks())
    sizes = publishes()
    results["reader RSS before any publish (MiB)"] = sizes[0]
    results["reader RSS growth at the first publish (MiB)"] = sizes[1] - sizes[0]
    results["reader RSS growth over the next 3 publishes (MiB)"] = sizes[-1] - sizes[1]
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
