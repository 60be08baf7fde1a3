"""Where the upstream catalogs disagree on a price or a limit of one model (`llmdbd check --conflicts`).

Read off the merge's provenance: a field's final value and the values it replaced name their sources, so
two upstreams giving one model different prices show without reloading anything.
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from llmdb.schema import SourceInfo, make_spec
from llmdbd.engine import agree
from llmdbd.engine.catalog import BuiltCatalog
from llmdbd.sources.upstreams import UPSTREAMS, table_of

FIELDS = agree.FIELDS
"""The fields compared: what a bill or a request's fit depends on (the ones the upstreams check each other on)."""


class Conflict(Struct, frozen=True, kw_only=True, omit_defaults=True):
    spec: str
    field: str
    values: dict[str, Any]
    """Upstream name → its value."""
    chosen: str
    """The source whose value the catalog serves (an upstream, or a patch above them)."""
    overruled: str | None = None
    """Set when two upstreams agreeing overruled the one precedence would pick (`engine.agree`): what and why."""


def conflicts(catalog: BuiltCatalog) -> list[Conflict]:
    """Every (model, field) two upstreams give different values, by spec then field."""
    sources = catalog.sources
    upstream = {i for i, s in enumerate(sources) if s.kind == "upstream"}
    why = {
        (make_spec(i.provider, i.model), i.field): i.message
        for i in catalog.report.issues
        if i.stage == "agree" and i.provider is not None and i.model is not None
    }
    out = []
    for spec, fields in catalog.model_sources.items():
        model = catalog.models.get(spec)
        if model is None:
            continue
        for path in FIELDS:
            found = fields.get(path)
            if found is None:
                continue
            winner, deleted, replaced = found
            values: dict[str, Any] = {}
            if winner in upstream and not deleted:
                values[sources[winner].name] = _value(model, path)
            for index, value in replaced:
                if index in upstream:
                    values.setdefault(sources[index].name, value)
            if len(values) > 1 and _differ(values, path, model):
                said = why.get((spec, path))
                out.append(Conflict(spec=spec, field=path, values=values, chosen=sources[winner].name, overruled=said))
    return out


def _value(model: Any, path: str) -> Any:
    for part in path.split("."):
        model = getattr(model, part, None)
    return model


def _differ(values: dict[str, Any], path: str, model: Any) -> bool:
    """Two of `values` disagree, as the agree stage judges it (`agree.same`: float noise is no disagreement)."""
    first, *rest = values.values()
    if all(agree.same(first, v) for v in rest):
        return False
    if path == "limits.context" and model.limits.input is not None:
        # LiteLLM's max_input_tokens is the prompt budget: models.dev's `limit.input`, where it has one.
        limits = model.limits
        return any(not agree.same(v, limits.input) and not agree.same(v, limits.context) for v in values.values())
    return True


def basis(catalog: BuiltCatalog) -> tuple[list[SourceInfo], SourceInfo | None]:
    """The upstreams whose values were compared, and the snapshot they were read from (the packaged catalog, a
    leader's file), if the build started from one: its fields name the upstreams it was built from."""
    layers = set(catalog.report.sources)
    compared: list[SourceInfo] = []
    snapshot = last = None
    for source in catalog.sources:
        if source in layers:
            last = source
            if source.kind == "upstream":
                compared.append(source)
        elif last is not None and source.kind == "upstream":  # carried by the layer `last`, a snapshot
            if snapshot is None and last in compared:
                compared.remove(last)
                snapshot = last
            compared.append(source)
    return compared, snapshot


def render(found: list[Conflict], catalog: BuiltCatalog | None = None) -> str:
    """One line per conflict: `spec field: source=value, ... (serving source)`, under a line saying what was
    compared; with fewer than two upstreams to compare, says so and how to give them."""
    compared, snapshot = basis(catalog) if catalog is not None else ([], None)
    head = f"{len(found)} conflict(s) between upstreams"
    if snapshot is not None:
        head += f", as recorded in the {snapshot.name} snapshot {snapshot.file or ''}".rstrip()
    if catalog is not None and len(compared) < 2:
        read = ", ".join(s.name for s in compared) or "none"
        where = (
            f"the catalog was built from the {snapshot.name} snapshot {snapshot.file}, which records {read}"
            if snapshot is not None
            else f"the upstreams read: {read}"
        )
        files = " and ".join(
            f"{k.name} (--upstream {k.name}=FILE, or `file` in the config's [{table_of(k.name)}])"
            for k in UPSTREAMS.values()
        )
        head = f"no conflicts to show: {where}; conflicts need two upstream files or more: {files}"
    lines = [head]
    for c in found:
        shown = ", ".join(f"{name}={value}" for name, value in c.values.items())
        said = f"; {c.overruled}" if c.overruled else ""
        lines.append(f"{c.spec} {c.field}: {shown} (serving {c.chosen}{said})")
    return "\n".join(lines)
