"""Translation from models.dev field names to llmdb's, shared by the models.dev source and patch files.

Keys already in llmdb's names pass through. What is left is either kept in `extra` (upstream, for forward
compatibility) or reported as unknown (patches, where it is most likely a typo).
"""

from __future__ import annotations

from typing import Any

from llmdbd.engine.layer import DELETE

MODEL_FIELDS = frozenset(
    {
        "name",
        "family",
        "base_id",
        "release_date",
        "last_updated",
        "knowledge",
        "status",
        "deprecated",
        "mode",
        "lifecycle",
        "open_weights",
        "limits",
        "cost",
        "modalities",
        "capabilities",
        "aliases",
        "names",
        "tags",
        "extra",
        "provider_model_id",
    }
)
PROVIDER_FIELDS = frozenset({"name", "base_url", "env", "doc", "npm", "aliases", "extra"})

_SIMPLE_MODEL_RENAMES: dict[str, tuple[str, ...]] = {
    "limit": ("limits",),
    "attachment": ("capabilities", "attachments"),
    "reasoning": ("capabilities", "reasoning", "enabled"),
    "tool_call": ("capabilities", "tools", "enabled"),
    "temperature": ("capabilities", "temperature"),
}
_COST_PRICES = (
    "input",
    "output",
    "cache_read",
    "cache_write",
    "cache_write_1h",
    "reasoning",
    "input_audio",
    "output_audio",
    "input_image",
    "output_image",
    "batch",
    "flex",
    "priority",
    "per_unit",
)
"""Keys of `cost` in llmdb's names (the service tiers and `per_unit` are tables, checked by validate)."""
_LEGACY_TIER = 200_000
"""models.dev's `cost.context_over_200k` is a single context tier above 200k tokens."""


class Unknown(Exception):
    """A key that is neither an llmdb nor a models.dev field name."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def put(out: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set `out[path[0]][path[1]]... = value`, creating tables on the way."""
    for key in path[:-1]:
        nxt = out.get(key)
        if not isinstance(nxt, dict):
            nxt = out[key] = {}
        out = nxt
    out[path[-1]] = value


def copy_tables(value: Any) -> Any:
    """A copy of nested dicts and lists, so translation never writes into the caller's data."""
    if isinstance(value, dict):
        return {k: copy_tables(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_tables(v) for v in value]
    return value


def model_fields(raw: dict[str, Any], *, strict: bool) -> dict[str, Any]:
    """Translate one model table to llmdb names; unknown keys go to `extra`, or raise `Unknown` if `strict`.

    The result shares nested tables with `raw`: callers hand over freshly decoded data.
    """
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _SIMPLE_MODEL_RENAMES:
            put(out, _SIMPLE_MODEL_RENAMES[key], value)
        elif key == "structured_output":
            put(out, ("capabilities", "json", "native"), value)
            put(out, ("capabilities", "json", "schema"), value)
        elif key == "reasoning_options":
            _reasoning_options(out, value)
        elif key == "cost":
            put(out, ("cost",), cost_fields(value, strict=strict, model=out))
        elif key in MODEL_FIELDS:
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                value = {**out[key], **value}
            out[key] = value
        elif strict:
            raise Unknown(key, "unknown model field")
        else:
            put(out, ("extra", key), value)
    return out


def provider_fields(raw: dict[str, Any], *, strict: bool) -> dict[str, Any]:
    """Translate one provider table (without `id` and `models`) to llmdb names."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "api":
            out["base_url"] = value
        elif key in PROVIDER_FIELDS:
            out[key] = value
        elif strict:
            raise Unknown(key, "unknown provider field")
        else:
            put(out, ("extra", key), value)
    return out


def cost_fields(raw: Any, *, strict: bool, model: dict[str, Any]) -> Any:
    """Translate a models.dev `cost` table: `tiers[].tier.size` → `tiers[].above`, `context_over_200k` → a tier.

    Unknown price keys go to `extra.cost` of `model`, the translated model table.
    """
    if not isinstance(raw, dict):
        return raw  # DELETE, or a wrong type for validate to report
    out: dict[str, Any] = {}
    legacy = None
    for key, value in raw.items():
        if key in _COST_PRICES:
            out[key] = value
        elif key == "tiers":
            out["tiers"] = _tiers(value) if isinstance(value, list) else value
        elif key == "context_over_200k":
            legacy = value
        elif strict:
            raise Unknown(f"cost.{key}", "unknown cost field")
        else:
            put(model, ("extra", "cost", key), value)
    if isinstance(legacy, dict) and "tiers" not in out:
        # Migration: files before 2026 authored only the legacy table; newer ones mirror it from `tiers`.
        out["tiers"] = [{"above": _LEGACY_TIER, **legacy}]
    return out


def _tiers(raw: list[Any]) -> list[Any]:
    tiers = []
    for item in raw:
        if isinstance(item, dict) and "tier" in item:
            spec = item["tier"]
            if not isinstance(spec, dict) or spec.get("type", "context") != "context":
                raise Unknown("cost.tiers", f"unsupported tier {spec!r} (only context tiers are modelled)")
            item = {"above": spec.get("size"), **{k: v for k, v in item.items() if k != "tier"}}
        tiers.append(item)
    return tiers


def _reasoning_options(out: dict[str, Any], value: Any) -> None:
    """Budget bounds become capabilities; the options themselves (effort levels…) stay verbatim in extra."""
    put(out, ("extra", "reasoning_options"), value)
    if value == DELETE:
        put(out, ("capabilities", "reasoning", "token_budget_min"), DELETE)
        put(out, ("capabilities", "reasoning", "token_budget_max"), DELETE)
        return
    for option in value if isinstance(value, list) else ():
        if isinstance(option, dict) and option.get("type") == "budget_tokens":
            if "min" in option:
                put(out, ("capabilities", "reasoning", "token_budget_min"), option["min"])
            if "max" in option:
                put(out, ("capabilities", "reasoning", "token_budget_max"), option["max"])
