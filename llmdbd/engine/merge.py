"""Merge stage: fold the layers, lowest precedence first, into one record per provider and per model.

Tables merge key by key, the union lists (aliases, tags, modalities) de-duplicate keeping order, every other
value from a higher layer replaces the lower one, and `"__delete__"` removes what lower layers set. For every
leaf the merge records which layer set it and which values it replaced: that is the provenance `explain` shows.
"""

from __future__ import annotations

import difflib
import sys
from typing import Any

from msgspec import Struct, field

from llmdb.schema import BuildIssue, SourceInfo, make_spec
from llmdbd.engine.layer import DELETE, Fragment, Layer

UNION_LISTS = frozenset({"aliases", "names", "tags", "modalities.input", "modalities.output", "env"})
"""List fields where layers add items instead of replacing the list."""

ModelKey = tuple[str, str]
"""(canonical provider id, model id)."""

FieldSource = tuple[int, bool, tuple[tuple[int, Any], ...]]
"""Where one field's value came from, compactly: `(layer, deleted, ((layer, value replaced), ...))`, layers
being positions in the build's list of sources. Snapshots store it as is (`llmdb.contract.StoredSource`)."""


class Carried(Layer, kw_only=True):
    """A layer read from a built catalog (the packaged snapshot, a leader's file) with the provenance it records,
    so a build from it still says which upstream or patch set each field, not just "packaged"."""

    origins: tuple[SourceInfo, ...] = ()
    """The catalog's sources as it numbered them: `enrich` first, as every build does."""
    fields: dict[tuple[str, str | None], dict[str, FieldSource]] = field(default_factory=dict)
    """(provider, model id or None) → field path → source, numbered as in `origins`."""


class Addition(Fragment, kw_only=True):
    """A model entry of a patch marked `"new": true`: it may add a model that no lower layer has. Any other patch
    entry for an unknown model is most likely a typo, and is left out with a warning."""


class Merged(Struct, kw_only=True):
    providers: dict[str, dict[str, Any]]
    models: dict[ModelKey, dict[str, Any]]
    provider_sources: dict[str, dict[str, FieldSource]]
    model_sources: dict[ModelKey, dict[str, FieldSource]]
    issues: list[BuildIssue]
    sources: list[SourceInfo] = []
    """What the field sources number from `first_index` on: each layer, and after a `Carried` one the sources
    it carries (all but its `enrich`, which stays the build's source 0)."""
    carried: set[int] = set()
    """The field source numbers of the sources `Carried` layers carry: the build they come from has already
    checked them against each other (`engine.agree` leaves them as they are)."""
    dated: dict[int, dict[ModelKey, tuple[str, dict[str, Any]]]] = {}
    """Source number → the models whose prices that layer dates (`Layer.dated`), for `engine.agree`."""


def merge(layers: list[Layer], *, first_index: int = 0) -> Merged:
    """Fold `layers` (lowest precedence first); fragments of one layer apply in a deterministic order.

    Field sources number the layers from `first_index`, so they can point into a list of sources that
    starts with something else (the build puts `enrich` first, as source 0); `Merged.sources` is that list's
    rest. A patch entry (a layer above the upstreams) for a model no lower layer has is left out with a warning
    unless it is an `Addition`.
    """
    out = Merged(providers={}, models={}, provider_sources={}, model_sources={}, issues=[])
    index = first_index
    for layer in layers:
        carried = layer if isinstance(layer, Carried) else None
        if carried is not None:
            out.carried.update(range(index + 1, index + len(carried.origins)))
        if layer.dated:
            out.dated[index] = layer.dated
        out.sources += [layer.info, *(carried.origins[1:] if carried is not None else ())]
        seen: set[tuple[str, str | None]] = set()
        for frag in sorted(layer.fragments, key=_fragment_order):
            key = (frag.provider, frag.model)
            if key in seen:
                out.issues.append(
                    BuildIssue(
                        severity="warning",
                        stage="merge",
                        message=f"defined more than once in this source; the later definition ({frag.where}) wins"
                        " where they differ",
                        source=layer.info.name,
                        file=layer.info.file,
                        provider=frag.provider,
                        model=frag.model,
                    )
                )
            seen.add(key)
            if frag.model is None:
                record = out.providers.setdefault(frag.provider, {})
                sources = out.provider_sources.setdefault(frag.provider, {})
            else:
                mkey = (frag.provider, frag.model)
                if mkey not in out.models and layer.info.kind != "upstream" and not isinstance(frag, Addition):
                    out.issues.append(_not_added(layer, frag, out.models))
                    continue
                record = out.models.setdefault(mkey, {})
                sources = out.model_sources.setdefault(mkey, {})
            if record:
                merge_into(record, sources, frag.data, index)
            elif carried is not None:  # the sources it records, not "carried" for every field
                adopt(record, {}, frag.data, (index, False, ()))
                sources.update(_renumbered(carried.fields.get(key, {}), index))
            else:
                adopt(record, sources, frag.data, (index, False, ()))
        index = first_index + len(out.sources)
    return out


def _renumbered(fields: dict[str, FieldSource], index: int) -> dict[str, FieldSource]:
    """A carried record's field sources, numbered in this build: its source k > 0 is `index + k` (its sources
    follow its layer's), its `enrich` (0) is the build's."""

    def at(k: int) -> int:
        return index + k if k else 0

    return {
        path: (at(k), deleted, tuple((at(j), value) for j, value in replaced) if replaced else ())
        for path, (k, deleted, replaced) in fields.items()
    }


def _not_added(layer: Layer, frag: Fragment, models: dict[ModelKey, dict[str, Any]]) -> BuildIssue:
    """The warning for a patch entry naming a model no lower layer has, with the closest ids that exist."""
    spec = make_spec(frag.provider, frag.model or "")
    ids = [mid for (pid, mid) in models if pid == frag.provider]
    close = [make_spec(frag.provider, m) for m in difflib.get_close_matches(frag.model or "", ids, n=3, cutoff=0.75)]
    if not ids:
        providers = {pid for pid, _ in models}
        close = [f"provider {p}" for p in difflib.get_close_matches(frag.provider, sorted(providers), n=3)]
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return BuildIssue(
        severity="warning",
        stage="merge",
        message=f"{spec} ({frag.where}) is in no lower source, so it was not added{hint}; to add a model that no"
        ' upstream has, mark its entry "new": true',
        source=layer.info.name,
        file=layer.info.file,
        provider=frag.provider,
        model=frag.model,
    )


def _fragment_order(frag: Fragment) -> tuple[str, str, int, str]:
    # Independent of dict and directory order: by target, then by where the fragment sits in its file.
    return (frag.provider, frag.model or "", frag.order, frag.where or "")


def merge_into(
    record: dict[str, Any],
    sources: dict[str, FieldSource],
    data: dict[str, Any],
    layer: int,
    prefix: str = "",
) -> None:
    """Deep-merge `data` (from layer number `layer`) into `record`, updating the field sources."""
    for key, value in data.items():
        path = prefix + key
        current = record.get(key, _MISSING)
        if isinstance(value, str) and value == DELETE:
            replaced = _take_sources(record, sources, key, path) if current is not _MISSING else ()
            record.pop(key, None)
            sources[path] = (layer, True, replaced)
        elif isinstance(value, dict):
            if not isinstance(current, dict):
                replaced = _take_sources(record, sources, key, path) if current is not _MISSING else ()
                current = record[key] = {}
                if replaced:
                    sources[path] = (layer, False, replaced)
            merge_into(current, sources, value, layer, path + ".")
        elif path in UNION_LISTS and isinstance(current, list) and isinstance(value, list):
            combined = list(dict.fromkeys([*current, *value]))
            if combined != current:
                before = sources.get(path)
                replaced = (*before[2], (before[0], current)) if before else ((layer, current),)
                record[key] = combined
                sources[path] = (layer, False, replaced)
        else:
            replaced = _take_sources(record, sources, key, path) if current is not _MISSING else ()
            record[key] = value
            sources[path] = (layer, False, replaced)


def adopt(
    record: dict[str, Any],
    sources: dict[str, FieldSource],
    data: dict[str, Any],
    source: FieldSource,
    prefix: str = "",
) -> None:
    """`merge_into` for an empty record: the common case, so it shares one `source` tuple across leaves."""
    for key, value in data.items():
        if isinstance(value, dict):
            inner: dict[str, Any] = {}
            record[key] = inner
            adopt(inner, sources, value, source, prefix + key + ".")
        elif isinstance(value, str) and value == DELETE:
            sources[_intern(prefix + key)] = (source[0], True, ())
        else:
            record[key] = value
            sources[_intern(prefix + key)] = source


def _take_sources(
    record: dict[str, Any], sources: dict[str, FieldSource], key: str, path: str
) -> tuple[tuple[int, Any], ...]:
    """Forget the sources of the value at `path` (and below it), returning what it replaced, lowest first."""
    before = sources.pop(path, None)
    if before is not None:
        return (*before[2], (before[0], None if before[1] else record.get(key)))
    if not isinstance(record.get(key), dict):
        return ()
    replaced: list[tuple[int, Any]] = []
    inner = path + "."
    for sub in [p for p in sources if p.startswith(inner)]:
        src = sources.pop(sub)
        replaced.extend(src[2])
        replaced.append((src[0], value_at(record[key], sub[len(inner) :])))
    return tuple(replaced)


def value_at(table: Any, path: str) -> Any:
    """The value at dotted `path` of a record (None where the path leads nowhere)."""
    for part in path.split("."):
        table = table.get(part) if isinstance(table, dict) else None
    return table


def put_at(record: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at dotted `path`, making the tables on the way."""
    *parents, last = path.split(".")
    for part in parents:
        record = record.setdefault(part, {})
    record[last] = value


def derived(found: FieldSource | None, old: Any, *, deleted: bool = False) -> FieldSource:
    """The source of a value a rule (`enrich`, source 0) set or deleted over `found`'s, which replaced `old`."""
    return (0, deleted, (*found[2], (found[0], old)) if found else ())


_MISSING: Any = object()
_intern = sys.intern
"""Field paths repeat across thousands of records: one string each keeps a daemon's cached provenance small."""
