"""One model across its hosts: each model's identity, derived from its id, and the benchmarks its hosts share.

An identity is `lab/model` in models.dev's namespace of base models (`anthropic/claude-sonnet-4.5`): the lab is the
maker a model id's prefix names for certain (`contract.makers`), never a guess across makers; the model part is the
id as any host writes it, brought to one spelling (docs/hosts.md):

1. the last path part (`anthropic/claude-sonnet-4.5` → `claude-sonnet-4.5`), without snapshot dates, API versions
   and `-latest` (`base_id`: `claude-sonnet-4-5-20250929-v1:0` → `claude-sonnet-4-5`) and how a host serves it
   (`:free`, `-free`, `-TEE`, `-FP8`, ...: `_SERVING`);
2. without a host's region or vendor prefix (`us.anthropic.claude-…` → `claude-…`, Bedrock's `-v1` after it,
   `cohere-command-r` → `command-r`);
3. lower case, `_` as `-`, and a dash between two version numbers as a dot (`claude-sonnet-4-5` →
   `claude-sonnet-4.5`, `glm-4-5-air` → `glm-4.5-air`; `gemma-3-27b` stays: `27b` is a size).

4. An id whose maker no prefix names, written as a Hugging Face repo id (`meta-llama/Llama-3.3-70B-Instruct`:
   exactly one `/`, as hosts of open weights write it), is that repo in the same spelling
   (`meta-llama/llama-3.3-70b-instruct`): the same repo is the same weights, whoever serves them.

Any other id has no identity.
"""

from __future__ import annotations

import re

import msgspec

from llmdb.contract import maker_in, maker_of
from llmdb.schema import Model
from llmdbd.engine.merge import FieldSource, ModelKey

LABS = {
    "alibaba": "alibaba",
    "anthropic": "anthropic",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "google": "google",
    "minimax": "minimax",
    "mistral": "mistral",
    "moonshotai": "moonshotai",
    "nova": "amazon",
    "openai": "openai",
    "perplexity": "perplexity",
    "xai": "xai",
    "xiaomi": "xiaomi",
    "zai": "zhipuai",
}
"""A maker's first-party provider → its lab in models.dev's base-model namespace (`models/<lab>/<model>.toml`)."""

_SERVING = re.compile(r"(?:[:-](?:free|tee|fp8|fp4|bf16|int4|int8|awq))+$", re.IGNORECASE)
"""How a host serves the model, not which model it is: a free tier, a trusted enclave, a quantization."""
_BEDROCK_VERSION = re.compile(r"-v\d+$")
"""Bedrock's model version after a vendor prefix (`anthropic.claude-opus-4-6-v1`)."""
_ORG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A Hugging Face user or organization name (`meta-llama`, `nvidia`), not a host's `hf:` or `@cf` prefix."""
_VERSION_DASH = re.compile(r"(?<![\d.])(\d{1,2})-(\d{1,2})(?=-|$)")
"""A dash between two version numbers (one or two digits, the second a whole part): `4-5` in
`claude-sonnet-4-5`, not `3-27b`, `4-1106` or a date's `07-28`."""


def identity(model_id: str, base_id: str | None) -> str | None:
    """The identity of model `model_id` (`base_id` as enrich derives it), or None where its maker is not
    certain."""
    name = _SERVING.sub("", base_id or model_id.rsplit("/", 1)[-1])
    maker = maker_of(name)
    if maker is None:  # a region or vendor prefix: `us.anthropic.claude-…`, `openai.gpt-oss-120b`, `cohere-command-…`
        vendor, _, rest = name.partition("-")
        parts = name.split(".")
        tails = [_BEDROCK_VERSION.sub("", ".".join(parts[i:])) for i in range(1, len(parts))]
        tails += [rest] if vendor.casefold() in _VENDORS else []
        found = next((tail for tail in tails if maker_of(tail) is not None), "")
        maker = maker_of(found) if found else None
        if maker is not None and maker_in(model_id) in (None, maker):
            return f"{LABS[maker]}/{spelled(found)}"
        org, slash, rest = model_id.partition("/")
        if maker_in(model_id) is None and slash and "/" not in rest and _ORG.fullmatch(org):
            return f"{org.lower()}/{spelled(name)}"  # a Hugging Face repo id, as hosts of open weights write it
        return None
    return f"{LABS[maker]}/{spelled(name)}"


def spelled(name: str) -> str:
    """Rule 3 of the module docstring: lower case, `_` as `-`, version dashes as dots."""
    return _VERSION_DASH.sub(r"\1.\2", name.lower().replace("_", "-"))


_VENDORS = frozenset({*LABS, *LABS.values(), "mistralai", "meta", "z-ai", "x-ai"})
"""Maker names a host may put before a model id with a dash (`cohere-command-r-08-2024`, `xiaomi-mimo-v2.5`)."""


Shared = dict[str, tuple[Model, Model, Model, dict[str, FieldSource]]]
"""A daemon's memo of the last build's shares: spec → (the model, the host it took them from, the model with them,
its sources); a rebuild that finds both models unchanged reuses the result, so its record is not encoded again."""


def share_benchmarks(
    models: dict[str, Model], sources: dict[ModelKey, dict[str, FieldSource]], memo: Shared | None = None
) -> int:
    """Give every model without benchmarks those of a host of the same identity that lists them (the first by
    spec), with `via` naming it; in place. Returns how many models gained them."""
    listed: dict[str, Model] = {}
    for spec in sorted(models):
        model = models[spec]
        if model.identity is not None and model.benchmarks is not None and model.benchmarks.via is None:
            listed.setdefault(model.identity, model)
    shared = 0
    last = dict(memo) if memo is not None else {}
    if memo is not None:
        memo.clear()
    for spec, model in models.items():
        source = listed.get(model.identity) if model.identity is not None and model.benchmarks is None else None
        if source is None or source.benchmarks is None:
            continue
        key = (model.provider, model.id)
        before = last.get(spec)
        if before is not None and before[0] is model and before[1] is source:
            done, fields = before[2], before[3]
        else:
            benchmarks = msgspec.structs.replace(source.benchmarks, via=source.spec)
            done = msgspec.structs.replace(model, benchmarks=benchmarks)
            fields = dict(sources.get(key, {}))  # a copy: a cached model's sources are shared with the cache
            derived: FieldSource = (0, False, ())
            for name, value in msgspec.structs.asdict(benchmarks).items():
                if value is not None:
                    fields[f"benchmarks.{name}"] = derived
        models[spec] = done
        sources[key] = fields
        if memo is not None:
            memo[spec] = (model, source, done, fields)
        shared += 1
    return shared
