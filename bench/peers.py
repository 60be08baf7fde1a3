"""The same questions asked of LiteLLM, genai-prices and tokencost, each in fresh interpreters.

    pip install -e '.[bench]' && python -m bench.peers

A peer that is not installed (or whose API changed) is reported as skipped, never a crash.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from typing import Any

RUNS = 5

COMMON = """
import json, time, timeit
def rss():
    return [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS')][0] / 1024
def hot(fn, number=2000):
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e9
out = {}
t = time.perf_counter()
"""

PEERS: dict[str, str] = {
    "llmdb": COMMON
    + """
import llmdb
out['import (ms)'] = (time.perf_counter() - t) * 1e3
t = time.perf_counter(); llmdb.get('openai:gpt-4o'); out['first lookup (us)'] = (time.perf_counter() - t) * 1e6
out['repeated lookup (ns)'] = hot(lambda: llmdb.get('openai:gpt-4o'), 100000)
out['supports tools (ns)'] = hot(lambda: llmdb.supports('openai:gpt-4o', 'tools'), 100000)
out['supports vision (ns)'] = hot(lambda: llmdb.supports('openai:gpt-4o', 'input:image'), 100000)
out['cost (ns)'] = hot(lambda: llmdb.cost('openai:gpt-4o', input_tokens=1000, output_tokens=200), 20000)
out['cost with cached tokens (ns)'] = hot(
    lambda: llmdb.cost('openai:gpt-4o', input_tokens=10000, output_tokens=2000, cache_read_tokens=4000), 20000)
out['models known'] = len(llmdb.default_catalog().snapshot.specs)
out['RSS after import + lookups (MiB)'] = rss()
""",
    "litellm": COMMON
    + """
import os
os.environ['LITELLM_LOCAL_MODEL_COST_MAP'] = 'True'
import litellm
out['import (ms)'] = (time.perf_counter() - t) * 1e3
t = time.perf_counter(); litellm.get_model_info('gpt-4o'); out['first lookup (us)'] = (time.perf_counter() - t) * 1e6
out['repeated lookup (ns)'] = hot(lambda: litellm.get_model_info('gpt-4o'))
out['model_cost[...] (ns)'] = hot(lambda: litellm.model_cost['gpt-4o'], 100000)
out['supports tools (ns)'] = hot(lambda: litellm.supports_function_calling('gpt-4o'))
out['supports vision (ns)'] = hot(lambda: litellm.supports_vision('gpt-4o'))
out['cost (ns)'] = hot(lambda: litellm.cost_per_token(model='gpt-4o', prompt_tokens=1000, completion_tokens=200))
out['cost with cached tokens (ns)'] = hot(lambda: litellm.cost_per_token(
    model='gpt-4o', prompt_tokens=10000, completion_tokens=2000, cache_read_input_tokens=4000))
out['models known'] = len(litellm.model_cost)
out['RSS after import + lookups (MiB)'] = rss()
""",
    "genai-prices": COMMON
    + """
from genai_prices import Usage, calc_price
out['import (ms)'] = (time.perf_counter() - t) * 1e3
usage = Usage(input_tokens=1000, output_tokens=200)
t = time.perf_counter(); calc_price(usage, model_ref='gpt-4o', provider_id='openai')
out['first lookup (us)'] = (time.perf_counter() - t) * 1e6
out['cost (ns)'] = hot(lambda: calc_price(usage, model_ref='gpt-4o', provider_id='openai'))
cached = Usage(input_tokens=10000, output_tokens=2000, cache_read_tokens=4000)
out['cost with cached tokens (ns)'] = hot(lambda: calc_price(cached, model_ref='gpt-4o', provider_id='openai'))
try:
    from genai_prices import data
    out['models known'] = sum(len(p.models) for p in data.providers)
except Exception:
    pass
out['RSS after import + lookups (MiB)'] = rss()
""",
    "tokencost": COMMON
    + """
from tokencost import calculate_cost_by_tokens
out['import (ms)'] = (time.perf_counter() - t) * 1e3
t = time.perf_counter(); calculate_cost_by_tokens(1000, 'gpt-4o', 'input')
out['first lookup (us)'] = (time.perf_counter() - t) * 1e6
out['cost (ns)'] = hot(lambda: (calculate_cost_by_tokens(1000, 'gpt-4o', 'input'),
                                calculate_cost_by_tokens(200, 'gpt-4o', 'output')))
try:
    from tokencost.constants import TOKEN_COSTS
    out['models known'] = len(TOKEN_COSTS)
except Exception:
    pass
out['RSS after import + lookups (MiB)'] = rss()
""",
}


def measure(name: str) -> dict[str, Any]:
    """Median of each figure over fresh interpreters, or {'skipped': reason}."""
    runs = []
    for _ in range(RUNS):
        done = subprocess.run(
            [sys.executable, "-c", PEERS[name] + "\nprint(json.dumps(out))"],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["failed"])[-1]
            return {"skipped": last[:200]}
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def run() -> dict[str, dict[str, Any]]:
    return {name: measure(name) for name in PEERS}


def main() -> None:
    print(json.dumps(run(), indent=2))


if __name__ == "__main__":
    main()
