"""Full engine build of models.dev `api.json` above LiteLLM's map plus 50 patch files, with time per stage.

python -m bench.build [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from llmdbd import inputs
from llmdbd.config import Config
from llmdbd.engine import collector_paused
from llmdbd.sources import litellm, modelsdev

UPSTREAM = Path(__file__).resolve().parents[2] / "shared" / "upstream"
API = UPSTREAM / "models.dev" / "api.json"
LITELLM = UPSTREAM / "litellm" / "model_prices_and_context_window.json"
OPENROUTER = UPSTREAM / "openrouter" / "models.json"
GENAI_PRICES = UPSTREAM / "genai-prices" / "v2" / "data.json"

PATCHES = 50


def write_patches(directory: Path, api: dict[str, dict[str, object]]) -> None:
    """50 realistic patches: each touches 10 models of one provider (prices, limits, tags, a capability)."""
    providers = sorted(api)
    for i in range(PATCHES):
        pid = providers[i % len(providers)]
        models = sorted(api[pid]["models"])[:10]  # type: ignore[call-overload]
        doc = {
            "provider": {"id": pid, "env": [f"{pid.upper().replace('-', '_')}_KEY_{i}"]},
            "models": [
                {
                    "id": m,
                    "cost": {"input": 1.0 + i / 100},
                    "limits": {"output": 4096 + i},
                    "tags": [f"patch-{i}"],
                    "capabilities": {"tools": {"parallel": True}},
                }
                for m in models
            ],
        }
        (directory / f"{i:02d}-{pid}.json").write_text(json.dumps(doc))


def run(repeat: int) -> dict[str, float]:
    """Median milliseconds of each stage and of the whole build (load included) over `repeat` runs."""
    data, litellm_data = API.read_bytes(), LITELLM.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        write_patches(Path(tmp), json.loads(data))
        samples: dict[str, list[float]] = {}
        for _ in range(repeat):
            start = time.perf_counter()
            with collector_paused():  # as `llmdbd build` and the daemon do
                upstream = [
                    litellm.load_bytes(litellm_data, file=str(LITELLM)),
                    modelsdev.load_bytes(data, file=str(API)),
                ]
                read = time.perf_counter()
                catalog = inputs.catalog(Config(patch_dirs=[tmp]), upstream=upstream)  # "load": the patch files
                done = time.perf_counter()
            samples.setdefault("read upstream", []).append((read - start) * 1000)
            for stage, ms in catalog.report.stage_ms.items():
                samples.setdefault(stage, []).append(ms)
            samples.setdefault("total", []).append((done - start) * 1000)
        assert catalog.report.errors == (), catalog.report.errors
    return {stage: statistics.median(values) for stage, values in samples.items()}


def upstreams(repeat: int) -> dict[str, float]:
    """`llmdbd build` of the two upstreams against all four (OpenRouter's list and genai-prices too), in
    alternating runs: median milliseconds, from the files to the built catalog, and the snapshots' sizes."""
    from llmdbd.output.publish import write_snapshot

    two = {"models.dev": str(API), "litellm": str(LITELLM)}
    four = {**two, "openrouter": str(OPENROUTER), "genai-prices": str(GENAI_PRICES)}
    times: dict[str, list[float]] = {"two": [], "four": []}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeat):
            for name, files in (("two", two), ("four", four)):
                start = time.perf_counter()
                with collector_paused():
                    catalog = inputs.catalog(Config(patch_dirs=[]).with_inputs(files, [], None))
                times[name].append((time.perf_counter() - start) * 1000)
                assert catalog.report.errors == (), catalog.report.errors
                path = Path(tmp) / f"{name}.llmdb"
                write_snapshot(catalog, path)
                sizes[name] = path.stat().st_size
    return {
        "full build, models.dev + LiteLLM (ms)": statistics.median(times["two"]),
        "full build, + OpenRouter + genai-prices (ms)": statistics.median(times["four"]),
        "snapshot, models.dev + LiteLLM (MB)": sizes["two"] / 1e6,
        "snapshot, four upstreams (MB)": sizes["four"] / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    for stage, ms in run(args.repeat).items():
        print(f"{stage:<10} {ms:8.1f} ms")


if __name__ == "__main__":
    main()
