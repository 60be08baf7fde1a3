"""Consistency stage: a model's fields must not contradict each other; where the upstreams make them, a rule
decides which field wins (docs/merging.md, "Contradictions"). What no rule can decide is only reported
(`quality`, for `llmdbd check --quality`).

Rules on the merged records (`consistent`), each overriding an upstream's value with provenance kept (source 0,
the upstream's value among what it overrode) and one warning:

- `embedding`: an id that names an embedding model (`embed`, `bge-`, `e5-`, ...) read as a chat model is an
  embedding model (LiteLLM files Vercel's `cohere/embed-v4.0` as chat);
- `speech`: a chat model that outputs no text (audio or images only: TTS, music) is no chat model;
- `parallel`: parallel tool calls on a model without tools are none;
- `output`: an output limit above the context window is the context window (no request generates past it).

And on the converted models (`one_spelling`): two ids of one provider that differ only in case, dots, dashes or
underscores (`mistral:mistral-medium-3.5` / `mistral-medium-3-5`) are one model: the one with more fields set
stays (then the one a higher source lists, then the first by id), the other becomes its alias; its LiteLLM names
and the `extra` keys the kept one lacks join it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import msgspec

from llmdb.contract import fold
from llmdb.schema import BuildIssue, BuildReport, Model
from llmdbd.engine.enrich import embedding_id
from llmdbd.engine.merge import FieldSource, ModelKey, derived, put_at, value_at

QUALITY = ("embedding_chat", "speech_chat", "parallel_without_tools", "output_above_context", "tier_above_context")
"""The contradiction classes `quality` counts (the last is reported only: no rule decides it)."""
SPELLING = "duplicate_spelling"


def consistent(
    models: dict[ModelKey, dict[str, Any]], sources: dict[ModelKey, dict[str, FieldSource]], upstream: set[int]
) -> list[BuildIssue]:
    """Apply the record rules in place to values the upstreams gave; a warning for each value changed."""
    issues: list[BuildIssue] = []
    for key, record in models.items():
        fields = sources[key]
        for name, path, value, why in _rules(key[1], record):
            found = fields.get(path)
            if found is not None and (found[1] or found[0] not in {0, *upstream}):
                continue  # a patch's or an override's word stands (a value enrich derived is read like an upstream's)
            old = value_at(record, path)
            put_at(record, path, value)
            fields[path] = derived(found, old)
            message = f"{name}: {path} {old!r} -> {value!r}: {why}"
            issues.append(
                BuildIssue(
                    severity="warning", stage="consistency", message=message, provider=key[0], model=key[1], field=path
                )
            )
    return issues


def _rules(model_id: str, record: dict[str, Any]) -> list[tuple[str, str, Any, str]]:
    """The (class, field, value, why) changes the record rules make to one record."""
    changes: list[tuple[str, str, Any, str]] = []
    capabilities = record.get("capabilities", {})
    chat = capabilities.get("chat") is True
    outputs = record.get("modalities", {}).get("output", ())
    chat_mode = record.get("mode") == "chat"
    if chat and embedding_id(model_id) and not set(outputs) - {"text", "embedding"}:
        why, name = "the id names an embedding model", "embedding_chat"
        changes += [(name, "capabilities.chat", False, why), (name, "capabilities.embeddings", True, why)]
        changes += [(name, "mode", "embedding", why)] if chat_mode else []
    elif chat and outputs and "text" not in outputs:
        why, name = f"it outputs {'/'.join(outputs)}, no text", "speech_chat"
        changes.append((name, "capabilities.chat", False, why))
        mode = "image_generation" if "image" in outputs else "audio_speech"
        changes += [(name, "mode", mode, why)] if chat_mode else []
    tools = capabilities.get("tools", {})
    if tools.get("parallel") is True and tools.get("enabled") is not True:
        changes.append(("parallel_without_tools", "capabilities.tools.parallel", False, "the model has no tools"))
    limits = record.get("limits", {})
    context, output = limits.get("context"), limits.get("output")
    if isinstance(context, int) and isinstance(output, int) and output > context > 0:
        why = f"above the context window ({context})"
        changes.append(("output_above_context", "limits.output", context, why))
    return changes


def one_spelling(
    models: dict[str, Model], sources: dict[ModelKey, dict[str, FieldSource]], denied: dict[str, str]
) -> list[BuildIssue]:
    """Merge each provider's spellings of one id (the module docstring) in place, an allowed one kept before a
    denied one; a warning for each."""
    plain: dict[tuple[str, str], str] = {}  # ids already in their folded spelling: most of them
    folded: dict[tuple[str, str], list[str]] = {}
    for spec, model in models.items():
        model_id = model.id
        if "." in model_id or "_" in model_id or model_id.casefold() != model_id:
            folded.setdefault((model.provider, fold(model_id)), []).append(spec)
        else:
            plain[(model.provider, model_id)] = spec
    groups = [
        [*specs, plain[key]] if key in plain else specs for key, specs in folded.items() if specs[1:] or key in plain
    ]
    issues: list[BuildIssue] = []
    for specs in groups:

        def rank(spec: str) -> tuple[bool, int, int, str]:
            fields = sources.get((models[spec].provider, models[spec].id), {})
            return (spec in denied, -len(fields), -max((f[0] for f in fields.values()), default=0), spec)

        keep, *others = sorted(specs, key=rank)
        model = models[keep]
        aliases = [*model.aliases, *(models[o].id for o in others)]
        names = [*model.names, *(n for o in others for n in models[o].names if n not in model.names)]
        extra = {k: v for o in reversed(others) for k, v in models[o].extra.items()} | model.extra
        models[keep] = msgspec.structs.replace(
            model, aliases=tuple(dict.fromkeys(aliases)), names=tuple(names), extra=extra
        )
        for other in others:
            gone = models.pop(other)
            sources.pop((gone.provider, gone.id), None)
            denied.pop(other, None)
            issues.append(
                BuildIssue(
                    severity="warning",
                    stage="consistency",
                    message=f"{SPELLING}: {other} is {keep} spelled otherwise: one model, {gone.id!r} its alias",
                    provider=gone.provider,
                    model=gone.id,
                )
            )
    return issues


def quality(models: dict[str, Model]) -> dict[str, list[str]]:
    """The specs of each contradiction class (`QUALITY`) still in the catalog, and of `duplicate_spelling`."""
    found: dict[str, list[str]] = {name: [] for name in (*QUALITY, SPELLING)}
    spellings: Counter[tuple[str, str]] = Counter((m.provider, fold(m.id)) for m in models.values())
    for spec, m in sorted(models.items()):
        cap, outputs, limits = m.capabilities, m.modalities.output, m.limits
        checks = {
            "embedding_chat": cap.chat and (cap.embeddings or (embedding_id(m.id) and m.mode == "chat")),
            "speech_chat": cap.chat and bool(outputs) and "text" not in outputs,
            "parallel_without_tools": cap.tools.parallel and not cap.tools.enabled,
            "output_above_context": bool(limits.output and limits.context and limits.output > limits.context),
            "tier_above_context": bool(
                m.cost and limits.context and any(t.above >= limits.context for t in m.cost.tiers)
            ),
            SPELLING: spellings[(m.provider, fold(m.id))] > 1,
        }
        for name, hit in checks.items():
            if hit:
                found[name].append(spec)
    return found


LEFT = {"tier_above_context": "no rule: a price tier above the context window (a long-context beta, or a gap)"}
"""Why a class is only reported."""


def resolved(report: BuildReport) -> dict[str, int]:
    """How many models each rule changed in the build `report` describes, by class (its warnings name it)."""
    models: dict[str, set[tuple[str | None, str | None]]] = {name: set() for name in (*QUALITY[:-1], SPELLING)}
    for issue in report.issues:
        name = issue.message.split(":", 1)[0] if issue.stage == "consistency" else ""
        if name in models:
            models[name].add((issue.provider, issue.model))
    return {name: len(keys) for name, keys in models.items()}


def render(resolved: dict[str, int], left: dict[str, list[str]]) -> str:
    """`llmdbd check --quality` as text: each class, what the rules resolved and what is left."""
    lines = ["class                    resolved  left"]
    for name in (*QUALITY, SPELLING):
        specs = left.get(name, [])
        shown = ", ".join(specs[:3]) + (" ..." if len(specs) > 3 else "")
        why = f"  ({LEFT[name]})" if name in LEFT and specs else ""
        lines.append(f"{name:<24} {resolved.get(name, 0):>8}  {len(specs):>4}  {shown}{why}".rstrip())
    return "\n".join(lines)
