"""The engine: layers in, one content-hashed `BuiltCatalog` out, through a list of stages timed one by one.

Each stage is a plain function of the `Build` state; adding a stage is adding a line to `STAGES`.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import msgspec

from llmdb.schema import BuildIssue, BuildReport, Model, Provider, SourceInfo, make_spec
from llmdbd.engine.agree import agree
from llmdbd.engine.cache import Entry, ModelCache, upstream_count
from llmdbd.engine.catalog import BuiltCatalog, content_hash
from llmdbd.engine.consistency import consistent, one_spelling
from llmdbd.engine.enrich import enrich
from llmdbd.engine.filters import Rules, apply_rules, exclude
from llmdbd.engine.hosts import share_benchmarks
from llmdbd.engine.layer import Layer
from llmdbd.engine.merge import FieldSource, Merged, ModelKey, merge
from llmdbd.engine.normalize import normalize
from llmdbd.engine.prices import prices
from llmdbd.engine.records import Record, Records
from llmdbd.engine.validate import split_error, validate
from llmdbd.errors import BuildError

ENRICH = SourceInfo(name="enrich", kind="derived")


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while inputs load and the catalog builds.

    A build allocates millions of acyclic objects; with the collector on, each older-generation pass rescans all
    of them, which made builds superlinear (merge 55 / 514 / 2,746 ms at x1 / x4 / x16 catalogs). Nested uses
    keep it off until the outermost ends."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def prepare(layer: Layer) -> Layer:
    """Normalize and validate one layer once; a prepared layer can be reused by many builds."""
    if not layer.prepared:
        normalize(layer)
        validate(layer)
        layer.prepared = True
    return layer


class Build:
    """The state one build passes from stage to stage."""

    def __init__(self, layers: list[Layer], rules: Rules, cache: ModelCache | None, agreement: bool = True) -> None:
        self.layers = layers
        self.rules = rules
        self.cache = cache
        self.agreement = agreement
        self.issues: list[BuildIssue] = []
        self.reused: dict[ModelKey, Entry] = {}
        self.touched: set[ModelKey] = set()
        self.merged = Merged(providers={}, models={}, provider_sources={}, model_sources={}, issues=[])
        self.models: dict[str, Model] = {}
        self.model_sources: dict[ModelKey, dict[str, FieldSource]] = {}
        self.providers: dict[str, Provider] = {}
        self.excluded: dict[str, str] = {}
        self.denied: dict[str, str] = {}
        self.model_aliases: dict[str, str] = {}
        self.records: list[Record] = []
        self.content_hash = ""


def _normalize(b: Build) -> None:
    for layer in b.layers:
        if not layer.prepared:
            normalize(layer)


def _validate(b: Build) -> None:
    for layer in b.layers:
        if not layer.prepared:
            validate(layer)
            layer.prepared = True
    b.issues += [i for layer in b.layers for i in layer.issues]


def _merge(b: Build) -> None:
    # Sources: `enrich` first, so its index (0) is the same whatever the number of layers (cached models keep it).
    above = b.layers[upstream_count(b.layers) :]
    b.touched = {(f.provider, f.model) for layer in above for f in layer.fragments if f.model is not None}
    to_merge = b.layers
    if b.cache is not None:
        b.reused, to_merge = b.cache.split(b.layers, b.touched, b.agreement)
    b.merged = merge(to_merge, first_index=1)
    b.issues += b.merged.issues


def _agree(b: Build) -> None:
    found = agree(b.merged, 1, consensus=b.agreement)
    b.merged.issues += found  # a model's own: remembered with it when cached
    b.issues += found


def _prices(b: Build) -> None:
    upstream = {1 + i for i, s in enumerate(b.merged.sources) if s.kind == "upstream"}
    prices(b.merged.models, b.merged.model_sources, upstream)


def _enrich(b: Build) -> None:
    enrich(b.merged.models, b.merged.model_sources, 0)


def _consistency(b: Build) -> None:
    upstream = {1 + i for i, s in enumerate(b.merged.sources) if s.kind == "upstream"}
    found = consistent(b.merged.models, b.merged.model_sources, upstream)
    b.merged.issues += found  # a model's own: remembered with it when cached
    b.issues += found


def _convert(b: Build) -> None:
    """Merged records become `Model`s and `Provider`s; reused models join them, new upstream-only ones are cached."""
    b.models = _models(b.merged.models, b.issues)
    b.model_sources = b.merged.model_sources
    for key, (model, fields, key_issues) in b.reused.items():
        b.models[model.spec] = model
        b.model_sources[key] = fields
        b.issues += key_issues
    if b.cache is not None:
        for key in b.merged.models.keys() - b.touched:
            fresh = b.models.get(make_spec(*key))
            if fresh is not None:
                key_issues = [i for i in b.merged.issues if (i.provider, i.model) == key]
                b.cache.remember(key, (fresh, b.model_sources[key], key_issues))
    b.providers = _providers(b.merged.providers, b.models, b.issues)


def _filters(b: Build) -> None:
    patterns = [(g, layer.info.name, layer.info.file) for layer in b.layers for g in layer.excludes]
    b.excluded, issues = exclude(b.models, patterns)
    b.issues += issues
    for layer in b.layers:
        for spec, reason in layer.excluded.items():
            b.excluded.setdefault(spec, reason)
    for spec in b.excluded:
        b.models.pop(spec, None)
    b.denied, issues = apply_rules(b.rules, ((m.spec, m.provider, m.id) for m in b.models.values()), b.providers)
    b.issues += issues
    for layer in b.layers:
        for spec, reason in layer.denied.items():
            if spec in b.models:
                b.denied.setdefault(spec, reason)


def _hosts(b: Build) -> None:
    b.issues += one_spelling(b.models, b.model_sources, b.denied)
    share_benchmarks(b.models, b.model_sources, b.cache.shared if b.cache is not None else None)


def _make_catalog(b: Build) -> None:
    """Aliases checked, everything sorted by key, and the content hash."""
    b.model_aliases = _model_aliases(b.models, b.issues)
    b.models = dict(sorted(b.models.items()))
    b.denied = dict(sorted(b.denied.items()))
    b.excluded = dict(sorted(b.excluded.items()))
    b.records = (b.cache.records if b.cache is not None else Records())(b.models.values())
    b.content_hash = content_hash(b.providers, b.records, b.model_aliases, b.denied, b.excluded)


STAGES: tuple[tuple[str, Callable[[Build], None]], ...] = (
    ("normalize", _normalize),
    ("validate", _validate),
    ("merge", _merge),
    ("agree", _agree),
    ("prices", _prices),
    ("enrich", _enrich),
    ("consistency", _consistency),
    ("convert", _convert),
    ("filters", _filters),
    ("hosts", _hosts),
    ("catalog", _make_catalog),
)
"""The stages in order; `build` times each under its name."""


def build(
    layers: list[Layer],
    rules: Rules | None = None,
    *,
    stage_ms: dict[str, float] | None = None,
    cache: ModelCache | None = None,
    agreement: bool = True,
) -> BuiltCatalog:
    """Build the catalog from `layers` (lowest precedence first); raises `BuildError` if no model survives.

    `stage_ms` carries timings of work done before (loading the inputs); `cache` lets a daemon reuse models;
    `agreement`: the upstreams check each other (`engine.agree`), else plain precedence."""
    b = Build(layers, rules or Rules(), cache, agreement)
    timings = dict(stage_ms or {})
    with collector_paused():
        for name, stage in STAGES:
            started = time.perf_counter()
            stage(b)
            timings[name] = round((time.perf_counter() - started) * 1000, 3)
    report = BuildReport(
        issues=tuple(b.issues),
        sources=tuple(layer.info for layer in layers),
        stage_ms=timings,
        providers=len(b.providers),
        models=len(b.models),
        denied=len(b.denied),
        excluded=len(b.excluded),
    )
    if not b.models:
        raise BuildError(report)
    return BuiltCatalog(
        providers=b.providers,
        models=b.models,
        records=b.records,
        model_aliases=b.model_aliases,
        denied=b.denied,
        excluded=b.excluded,
        sources=(ENRICH, *b.merged.sources),
        model_sources={spec: b.model_sources[(m.provider, m.id)] for spec, m in b.models.items()},
        provider_sources={pid: b.merged.provider_sources.get(pid, {}) for pid in b.providers},
        report=report,
        content_hash=b.content_hash,
    )


def _models(records: dict[tuple[str, str], dict[str, Any]], issues: list[BuildIssue]) -> dict[str, Model]:
    out = {}
    for (provider, model_id), record in records.items():
        spec = make_spec(provider, model_id)
        try:
            out[spec] = msgspec.convert({**record, "spec": spec, "id": model_id, "provider": provider}, Model)
        except msgspec.ValidationError as exc:
            issues.append(_invalid(exc, "merged record is invalid: {}; model dropped", provider, model_id))
    return out


def _invalid(exc: msgspec.ValidationError, message: str, provider: str, model: str | None = None) -> BuildIssue:
    """The error for a merged record that does not convert, naming the field msgspec names."""
    path, reason = split_error(str(exc))
    return BuildIssue(
        severity="error", stage="convert", message=message.format(reason), provider=provider, model=model, field=path
    )


def _providers(
    records: dict[str, dict[str, Any]], models: dict[str, Model], issues: list[BuildIssue]
) -> dict[str, Provider]:
    out = {}
    for pid, record in records.items():
        try:
            out[pid] = msgspec.convert({**record, "id": pid}, Provider)
        except msgspec.ValidationError as exc:
            issues.append(_invalid(exc, "merged provider is invalid: {}; only its id is kept", pid))
            out[pid] = Provider(id=pid)
    for model in models.values():
        if model.provider not in out:
            issues.append(
                BuildIssue(
                    severity="warning",
                    stage="convert",
                    message="model names a provider no source defines; created with its id only",
                    provider=model.provider,
                    model=model.id,
                )
            )
            out[model.provider] = Provider(id=model.provider)
    taken = set(out)
    for pid, provider in sorted(out.items()):
        clashes = [a for a in provider.aliases if a in taken and a != pid]
        if clashes:
            issues.append(
                BuildIssue(
                    severity="error",
                    stage="convert",
                    message=f"provider alias {clashes[0]!r} is already another provider's id; dropped",
                    provider=pid,
                    field="aliases",
                )
            )
        kept = tuple(a for a in provider.aliases if a not in taken and a != pid)
        taken.update(kept)
        if kept != provider.aliases:
            out[pid] = msgspec.structs.replace(provider, aliases=kept)
    return dict(sorted(out.items()))


def _model_aliases(models: dict[str, Model], issues: list[BuildIssue]) -> dict[str, str]:
    """Alias spec → spec; an alias that is another model's id, or already taken, is reported and dropped."""
    index: dict[str, str] = {}
    for spec in sorted(models):
        model = models[spec]
        kept = []
        for alias in model.aliases:
            alias_spec = make_spec(model.provider, alias)
            owner = alias_spec if alias_spec in models else index.get(alias_spec)
            if owner is not None and owner != spec:
                issues.append(
                    BuildIssue(
                        severity="error",
                        stage="catalog",
                        message=f"alias {alias!r} already names {owner}; dropped",
                        provider=model.provider,
                        model=model.id,
                        field="aliases",
                    )
                )
                continue
            if alias_spec != spec:
                index[alias_spec] = spec
                kept.append(alias)
        if len(kept) != len(model.aliases):
            models[spec] = msgspec.structs.replace(model, aliases=tuple(kept))
    return dict(sorted(index.items()))
