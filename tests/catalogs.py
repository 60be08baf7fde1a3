"""Shared test helpers: where the real upstream data is, and small hand-made catalogs for snapshot tests."""

from __future__ import annotations

from pathlib import Path

from llmdb.schema import BuildReport, Cost, Limits, Model, Provider, SourceInfo
from llmdbd.engine.catalog import BuiltCatalog, content_hash
from llmdbd.engine.records import Records

UPSTREAM = Path(__file__).resolve().parents[2] / "shared" / "upstream" / "models.dev"
"""The real models.dev catalogs (../shared/upstream, beside the checkout)."""
API = UPSTREAM / "api.json"
API_OLDER = UPSTREAM / "api-older.json"
LITELLM = UPSTREAM.parent / "litellm" / "model_prices_and_context_window.json"
"""LiteLLM's model map (litellm 1.109.1, 2026-11-12)."""

PACKAGED_AS_OF = "2026-12-07"
API_MODELS = 5275
"""Models built from api.json alone: its 5,276 entries, `cloudflare_ai_gateway` listing `anthropic/claude-3-5-haiku`
under two spellings (one model, the other its alias: `engine.consistency.one_spelling`)."""
PACKAGED_MODELS = 9206
"""Models in the packaged catalog (the four shared upstreams)."""
"""The day the packaged snapshot's dated prices are read as of (README: `llmdbd build --as-of`)."""

SOURCE = SourceInfo(name="test", kind="upstream", file="test.json", version="sha256:00")


def make_catalog(price: float = 1.0, *, extra_models: int = 2, denied: dict[str, str] | None = None) -> BuiltCatalog:
    """A catalog of `t:m` (whose `cost.input` is `price`, to tell versions apart) and a few more models."""
    models = [
        Model(
            spec="t:m",
            id="m",
            provider="t",
            limits=Limits(context=1000, output=100),
            cost=Cost(input=price, output=2.0),
        )
    ]
    models += [Model(spec=f"t:x{i}", id=f"x{i}", provider="t", family="x") for i in range(extra_models)]
    by_spec = {m.spec: m for m in sorted(models, key=lambda m: m.spec)}
    providers = {"t": Provider(id="t", name="Test", aliases=("t-1",))}
    deny = dict(denied or {})
    records = Records()(by_spec.values())
    return BuiltCatalog(
        providers=providers,
        models=by_spec,
        records=records,
        model_aliases={},
        denied=deny,
        excluded={},
        sources=(SOURCE,),
        model_sources={s: {"cost.input": (0, False, ())} for s in by_spec},
        provider_sources={"t": {"name": (0, False, ())}},
        report=BuildReport(sources=(SOURCE,), providers=1, models=len(by_spec)),
        content_hash=content_hash(providers, records, {}, deny, {}),
    )
