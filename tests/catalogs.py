"""Shared test helpers: small hand-made catalogs for snapshot and publishing tests."""

from __future__ import annotations

from llmdb.schema import BuildReport, Cost, Limits, Model, Provider, SourceInfo
from llmdbd.catalog import Catalog, content_hash

SOURCE = SourceInfo(name="test", kind="upstream", file="test.json", version="sha256:00")


def make_catalog(price: float = 1.0, *, extra_models: int = 2, denied: dict[str, str] | None = None) -> Catalog:
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
    return Catalog(
        providers=providers,
        models=by_spec,
        model_aliases={},
        denied=deny,
        sources=(SOURCE,),
        model_sources={s: {"cost.input": (0, False, ())} for s in by_spec},
        provider_sources={"t": {"name": (0, False, ())}},
        report=BuildReport(sources=(SOURCE,), providers=1, models=len(by_spec)),
        content_hash=content_hash(providers, by_spec, {}, deny),
    )
