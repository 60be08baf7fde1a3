"""The engine: layers in, one content-hashed `Catalog` out, stage by stage with timings in the report."""

from __future__ import annotations

import time
from typing import Any

import msgspec

from llmdb._format import FieldSource
from llmdb.schema import (
    BuildIssue,
    BuildReport,
    Model,
    Provider,
    SourceInfo,
    make_spec,
)
from llmdbd.catalog import Catalog, content_hash
from llmdbd.enrich import enrich
from llmdbd.filters import Rules, apply_rules, exclude
from llmdbd.layer import Layer
from llmdbd.merge import ModelKey, merge
from llmdbd.normalize import normalize
from llmdbd.validate import split_error, validate

ENRICH = SourceInfo(name="enrich", kind="derived")


class BuildError(Exception):
    """No model survived the build; the report says why."""

    def __init__(self, report: BuildReport) -> None:
        errors = "; ".join(str(i) for i in report.errors[:5])
        super().__init__(f"build produced no models: {errors or 'no input'}")
        self.report = report


class BaseCache:
    """Models only the lowest layer defines, merged, enriched and converted once, then reused by every build
    whose lowest layer is that same (prepared) layer object: a daemon rebuilding on each patch drop recomputes
    only the models its patches touch."""

    def __init__(self) -> None:
        self.layer: Layer | None = None
        self.models: dict[ModelKey, tuple[Model, dict[str, FieldSource], list[BuildIssue]]] = {}


def build(
    layers: list[Layer],
    rules: Rules | None = None,
    *,
    stage_ms: dict[str, float] | None = None,
    cache: BaseCache | None = None,
) -> Catalog:
    """Build the catalog from `layers` (lowest precedence first); raises `BuildError` if no model survives."""
    timings = dict(stage_ms or {})
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round((now - clock) * 1000, 3)
        clock = now

    normalize(layers)
    lap("normalize")
    validate(layers)
    lap("validate")
    # Sources: `enrich` first, so its index (0) is the same whatever the number of layers (cached models keep it).
    origins = [ENRICH, *(layer.info for layer in layers)]
    touched = {(f.provider, f.model) for layer in layers[1:] for f in layer.fragments if f.model is not None}
    reused: dict[ModelKey, tuple[Model, dict[str, FieldSource], list[BuildIssue]]] = {}
    to_merge = layers
    if cache is not None and layers:
        if cache.layer is not layers[0] or not layers[0].prepared:
            cache.layer, cache.models = layers[0], {}
        reused = {key: entry for key, entry in cache.models.items() if key not in touched}
        if reused:
            base = layers[0]
            rest = [f for f in base.fragments if f.model is None or (f.provider, f.model) not in reused]
            to_merge = [msgspec.structs.replace(base, fragments=rest), *layers[1:]]
    merged = merge(to_merge, first_index=1)
    lap("merge")
    enrich(merged.models, merged.model_sources, 0)
    lap("enrich")
    issues = [i for layer in layers for i in layer.issues] + merged.issues
    models = _models(merged.models, issues)
    sources = merged.model_sources
    if cache is not None:
        for key, (model, fields, key_issues) in reused.items():
            models[model.spec] = model
            sources[key] = fields
            issues += key_issues
        for key in merged.models.keys() - touched:
            spec = make_spec(*key)
            if spec in models:
                key_issues = [i for i in merged.issues if (i.provider, i.model) == key]
                cache.models[key] = (models[spec], sources[key], key_issues)
    providers = _providers(merged.providers, models, issues)
    removed, excluded_issues = exclude(
        models, [(g, layer.info.file or layer.info.name) for layer in layers for g in layer.excludes]
    )
    issues += excluded_issues
    for spec in removed:
        del models[spec]
    denied, rule_issues = apply_rules(
        rules or Rules(), ((m.spec, m.provider, m.id) for m in models.values()), providers
    )
    issues += rule_issues
    lap("filters")
    model_aliases = _model_aliases(models, issues)
    models = dict(sorted(models.items()))
    model_sources = {spec: sources[(m.provider, m.id)] for spec, m in models.items()}
    provider_sources = {pid: merged.provider_sources.get(pid, {}) for pid in providers}
    digest = content_hash(providers, models, model_aliases, denied)
    lap("catalog")
    report = BuildReport(
        issues=tuple(issues),
        sources=tuple(origins[1:]),
        stage_ms=timings,
        providers=len(providers),
        models=len(models),
        denied=len(denied),
    )
    if not models:
        raise BuildError(report)
    return Catalog(
        providers=providers,
        models=models,
        model_aliases=model_aliases,
        denied=dict(sorted(denied.items())),
        sources=tuple(origins),
        model_sources=model_sources,
        provider_sources=provider_sources,
        report=report,
        content_hash=digest,
    )


def _models(records: dict[tuple[str, str], dict[str, Any]], issues: list[BuildIssue]) -> dict[str, Model]:
    out = {}
    for (provider, model_id), record in records.items():
        spec = make_spec(provider, model_id)
        try:
            out[spec] = msgspec.convert({**record, "spec": spec, "id": model_id, "provider": provider}, Model)
        except msgspec.ValidationError as exc:
            path, reason = split_error(str(exc))
            issues.append(
                BuildIssue(
                    severity="error",
                    stage="merge",
                    message=f"merged record is invalid: {reason}; model dropped",
                    provider=provider,
                    model=model_id,
                    field=path,
                )
            )
    return out


def _providers(
    records: dict[str, dict[str, Any]], models: dict[str, Model], issues: list[BuildIssue]
) -> dict[str, Provider]:
    out = {}
    for pid, record in records.items():
        try:
            out[pid] = msgspec.convert({**record, "id": pid}, Provider)
        except msgspec.ValidationError as exc:
            path, reason = split_error(str(exc))
            issues.append(
                BuildIssue(
                    severity="error",
                    stage="merge",
                    message=f"merged provider is invalid: {reason}; only its id is kept",
                    provider=pid,
                    field=path,
                )
            )
            out[pid] = Provider(id=pid)
    for model in models.values():
        if model.provider not in out:
            issues.append(
                BuildIssue(
                    severity="warning",
                    stage="merge",
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
                    stage="merge",
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


def collect_layers(
    *,
    upstream: Layer | None = None,
    patch_dirs: list[str] | tuple[str, ...] = (),
    config_overrides: Any = None,
    config_file: str | None = None,
    overrides_module: str | None = None,
) -> list[Layer]:
    """The layers of a build, lowest precedence first: upstream < patch files < config < code overrides."""
    from llmdbd.sources import overrides, patches

    layers = [upstream] if upstream is not None else []
    layers += patches.load_dirs(patch_dirs)
    if config_overrides is not None:
        layers.append(patches.from_doc(config_overrides, name="config", kind="config", file=config_file))
    if overrides_module is not None:
        layers.append(overrides.load_module(overrides_module))
    return layers
