"""What the CLIs show a person: a model's card, tables, history events, prices. Plain functions from values to
text, shared by `llmdb`'s commands (the daemon's status lines are `contract.state.status_lines`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from llmdb._features import features_of
from llmdb._history import Change
from llmdb._usage import SERVICE_TIERS
from llmdb.schema import Cost, Model, TokenPrices

_JSON = msgspec.json.Encoder()


def to_json(value: Any) -> str:
    """The schema's JSON of any value (`--json`)."""
    return _JSON.encode(value).decode()


def model_card(m: Model, denied_by: str | None) -> str:
    """One model as `field  value` lines: what is known, `-` for what is not (prices per 1M tokens)."""
    life, gone = m.lifecycle, m.status in ("deprecated", "retired")
    ends = [
        f"{k} {v}"
        for k, v in (
            ("deprecated since" if gone else "deprecated from", life.deprecation_date),
            ("retired since" if m.status == "retired" else "retired from", life.retirement_date),
            ("replaced by", life.replacement),
        )
        if v
    ]
    reasoning = m.capabilities.reasoning
    rows: list[tuple[str, object]] = [
        ("spec", m.spec),
        ("name", m.name),
        ("family", m.family),
        ("base id", m.base_id),
        ("identity", m.identity),
        ("mode", m.mode),
        ("status", m.status + (f" (denied by rule: {denied_by})" if denied_by else "")),
        ("lifecycle", ", ".join(ends)),
        ("context", m.limits.context),
        ("input limit", m.limits.input),
        ("output limit", m.limits.output),
        *price_rows(m.cost),
        ("modalities", f"{','.join(m.modalities.input) or '-'} -> {','.join(m.modalities.output) or '-'}"),
        ("features", ", ".join(k for k, v in features_of(m).items() if v)),
    ]
    if reasoning.enabled:
        budget = (reasoning.token_budget_min, reasoning.token_budget_max)
        rows.append(("reasoning budget", "-" if budget == (None, None) else f"{num(budget[0])}..{num(budget[1])}"))
    bench = m.benchmarks
    if bench is not None:
        scores = [
            f"{k} {num(v)}" for k in ("intelligence", "coding", "agentic") if (v := getattr(bench, k)) is not None
        ]
        said = ", ".join(x for x in (bench.source, f"as listed on {bench.via}" if bench.via else None) if x)
        rows.append(("benchmarks", ", ".join(scores) + (f" ({said})" if said else "")))
    rows += [("released", m.release_date), ("knowledge", m.knowledge)]
    return "\n".join(f"{k:<17}{'-' if v is None or v == '' else v}" for k, v in rows)


def price_rows(cost: Cost | None) -> list[tuple[str, object]]:
    """The card's price lines: base prices with the cache's, then each context tier, service tier and per-unit
    price the model has."""
    if cost is None:
        return [("price", "unknown")]
    rows: list[tuple[str, object]] = [("price", "per 1M tokens: " + prices(cost))]
    rows += [("", f"above {t.above} tokens: {prices(t)}") for t in cost.tiers]
    for name in SERVICE_TIERS:
        service = getattr(cost, name)
        if service is not None:
            rows.append((f"{name} price", prices(service)))
            rows += [("", f"above {t.above} tokens: {prices(t)}") for t in service.tiers]
    units = msgspec.structs.asdict(cost.per_unit) if cost.per_unit is not None else {}
    shown = [f"{k.replace('_', ' ')} {usd(v)}" for k, v in units.items() if v is not None]
    if shown:
        rows.append(("per unit", ", ".join(shown)))
    return rows


PRICE_PARTS = (
    ("cache_read", "cache read"),
    ("cache_write", "cache write"),
    ("cache_write_1h", "cache write 1h"),
    ("reasoning", "reasoning"),
    ("input_audio", "audio in"),
    ("output_audio", "audio out"),
    ("input_image", "image in"),
    ("output_image", "image out"),
)


def prices(p: TokenPrices) -> str:
    """`$2.5 in / $10 out, cache read $1.25`: input and output always (`-` when unknown), the others when set."""
    parts = [f"{usd(p.input)} in / {usd(p.output)} out"]
    parts += [f"{label} {usd(getattr(p, k))}" for k, label in PRICE_PARTS if getattr(p, k) is not None]
    return ", ".join(parts)


def usd(value: float | None) -> str:
    """`$0.143`, `$10`; `-` when unknown (never `$None`); no exponent for tiny prices."""
    return "-" if value is None else "$" + (f"{value:.10f}".rstrip("0").rstrip(".") or "0")


def model_table(models: Sequence[Model]) -> str:
    rows = [
        (
            m.spec,
            num(m.limits.context),
            num(m.limits.output),
            "-" if m.cost is None or m.cost.input is None else f"{m.cost.input:g}",
            "-" if m.cost is None or m.cost.output is None else f"{m.cost.output:g}",
            m.release_date or "",
        )
        for m in models
    ]
    return table(("spec", "context", "output", "$in/1M", "$out/1M", "released"), rows)


def hosts_table(models: Sequence[Model]) -> str:
    """One model across its hosts: what each charges and allows, and where it stands."""

    def price(value: float | None) -> str:
        return "-" if value is None else f"{value:g}"

    rows = [
        (
            m.provider,
            m.id,
            num(m.limits.context),
            num(m.limits.output),
            price(m.cost.input if m.cost else None),
            price(m.cost.output if m.cost else None),
            price(m.cost.cache_read if m.cost else None),
            m.status,
        )
        for m in models
    ]
    return table(("provider", "id", "context", "output", "$in/1M", "$out/1M", "$cached/1M", "status"), rows)


def num(value: int | None) -> str:
    return "-" if value is None else str(value)


def events(events: Sequence[Change]) -> str:
    rows = [
        (
            e.at,
            str(e.epoch or ""),
            e.kind,
            e.spec,
            e.field or "",
            clipped(shown(e.old)),
            clipped(shown(e.new)),
            e.source or "",
        )
        for e in events
    ]
    return table(("at", "epoch", "event", "spec", "field", "old", "new", "source"), rows) + f"\n{len(events)} event(s)"


def shown(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else to_json(value)


def clipped(text: str, width: int = 60) -> str:
    """A table cell cut to `width` characters (a field like `extra` can hold a long JSON object; `--json` has
    it whole)."""
    return text if len(text) <= width else text[: width - 1] + "…"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*r).rstrip() for r in [header, *rows])
