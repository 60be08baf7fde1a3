"""`llmdb`'s commands: each takes the catalog and the parsed arguments and returns the text to print, a thin
layer over the library (`cli.py` parses, runs one, and turns errors into exit codes)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import msgspec

from llmdb import _models, _render, contract
from llmdb._catalog import Catalog, default_path
from llmdb.errors import InvalidQuery, InvalidUsage, SnapshotError

UNIT_OPTIONS = (
    ("images", int, "images generated"),
    ("audio_seconds", float, "seconds of audio sent"),
    ("characters", int, "characters sent (speech synthesis)"),
    ("requests", int, "requests, for models priced per request"),
    ("web_searches", int, "web searches run"),
)
"""`llmdb cost`'s per-unit counts: option name, type, help."""


def not_a_directory(path: Path) -> None:
    """`SnapshotError` saying so when `path` is a directory (opening one fails with a bare "Invalid argument")."""
    if path.is_dir():
        inside = path / contract.CATALOG_FILE
        hint = f"; the snapshot in it is {inside}" if inside.is_file() else ""
        raise SnapshotError(f"{path}: is a directory, not a snapshot file{hint}")


def _filter_args(args: argparse.Namespace) -> dict[str, Any]:
    """`cli._filters`' values as `models()` and `select()` take them."""
    names = ("input", "output", "mode", *_models.Limits._fields)
    return {name: getattr(args, name) for name in names} | {
        "require": args.require,
        "forbid": args.forbid,
        "order_by": args.order_by,
        "include_deprecated": args.include_deprecated,
        "at": args.at,
    }


def get(catalog: Catalog, args: argparse.Namespace) -> str:
    model = catalog.resolve(args.spec, at=args.at) if args.at else catalog.get(args.spec)
    if args.json:
        return _render.to_json(model)
    return _render.model_card(model, catalog.snapshot.denied.get(model.spec))


def resolve(catalog: Catalog, args: argparse.Namespace) -> str:
    found = catalog.resolve_name(args.name, scope=args.scope)
    if args.json:
        return _render.to_json({"name": args.name, "spec": found.spec, "rule": found.rule, "note": found.note or None})
    return f"{found.spec}  ({found.rule}{': ' + found.note if found.note else ''})"


def list_models(catalog: Catalog, args: argparse.Namespace) -> str:
    found = catalog.models(args.provider, same_as=getattr(args, "same_as", None), **_filter_args(args))
    if args.json:
        return _render.to_json(list(found))
    return _render.model_table(found) + f"\n{len(found)} model(s)"


def serve(catalog: Catalog, args: argparse.Namespace) -> str:
    """Run the HTTP application over `catalog` under uvicorn until interrupted."""
    try:
        import uvicorn

        from llmdb.serve import create_app
    except ImportError as exc:
        message = f"llmdb serve needs the serve extra ({exc.name} is missing): pip install 'llmdbd[serve]'"
        raise InvalidQuery(message) from None
    uvicorn.run(create_app(catalog), host=args.host, port=args.port, log_level="warning")
    return ""


def hosts(catalog: Catalog, args: argparse.Namespace) -> str:
    model = catalog.get(args.name)
    order = None if args.order_by == "spec" else args.order_by
    found = catalog.hosts(args.name, include_deprecated=args.include_deprecated, order_by=order, at=args.at)
    if args.json:
        return _render.to_json(list(found))
    who = f"{model.identity} on {len({m.provider for m in found})} provider(s)" if model.identity else model.spec
    return _render.hosts_table(found) + f"\n{len(found)} model(s): {who}"


def select(catalog: Catalog, args: argparse.Namespace) -> str:
    chosen = catalog.select(prefer=args.prefer, like=args.like, scope=args.scope, **_filter_args(args))
    if args.json:
        return _render.to_json({"model": chosen.model, "trace": chosen.trace})
    lines = [f"{chosen.model.spec}  ({chosen.model.name or chosen.model.id})", ""]
    for step in chosen.trace:
        why = ", ".join(f"{n} failed {r}" for r, n in step.rejected_by.items())
        lines.append(
            f"  {step.step}: {step.candidates} candidate(s), {step.matched} matched" + (f"; {why}" if why else "")
        )
    return "\n".join(lines)


def explain(catalog: Catalog, args: argparse.Namespace) -> str:
    prov = catalog.explain(args.spec)
    if args.json:
        return _render.to_json(prov)
    rows = []
    for path, p in prov.items():
        note = " (deleted)" if p.deleted else ""
        over = "; over " + ", ".join(f"{o.source}={o.value!r}" for o in p.overridden) if p.overridden else ""
        rows.append((path, p.source + note, (p.file or "") + over))
    return _render.table(("field", "source", "file / overridden"), rows)


def providers(catalog: Catalog, args: argparse.Namespace) -> str:
    providers = catalog.providers()
    if args.json:
        return _render.to_json(providers)
    counts: dict[str, int] = {}
    for spec in catalog.snapshot.specs:
        pid = spec.split(":", 1)[0]
        counts[pid] = counts.get(pid, 0) + 1
    rows = [(p.id, p.name or "", str(counts.get(p.id, 0)), ", ".join(p.aliases)) for p in providers]
    return _render.table(("id", "name", "models", "aliases"), rows) + f"\n{len(providers)} provider(s)"


_COST_PARTS = (
    "input",
    "cache_read",
    "cache_write",
    "input_audio",
    "input_image",
    "output",
    "reasoning",
    "output_audio",
    "output_image",
)


def cost(catalog: Catalog, args: argparse.Namespace) -> str:
    units = {unit: getattr(args, unit) for unit, _, _ in UNIT_OPTIONS}
    tier = args.service_tier
    if args.usage is None and not (args.input_tokens or args.output_tokens or any(units.values())):
        raise InvalidUsage("nothing to price: give --usage FILE (- for stdin) or --input-tokens/--output-tokens")
    result = catalog.cost(
        args.spec,
        None if args.usage is None else _usage_file(args.usage),
        api=args.api,
        input_tokens=args.input_tokens,
        output_tokens=args.output_tokens,
        cache_read_tokens=args.cache_read_tokens,
        cache_write_tokens=args.cache_write_tokens,
        reasoning_tokens=args.reasoning_tokens,
        service_tier=tier,
        at=args.at,
        **units,
    )
    if args.json:
        return _render.to_json(result)
    rows = [(k, f"${getattr(result, k):.6f}") for k in _COST_PARTS if getattr(result, k) or k in ("input", "output")]
    rows += [(k, f"${v:.6f}") for k, v in result.per_unit.items()]
    rows.append(("total", f"${result.total:.6f}"))
    prices = ["service tier " + (result.service_tier or "standard")]
    if result.tier is not None:
        prices.append(f"context tier above {result.tier} tokens")
    if args.at is not None:
        prices.append(f"prices as of {args.at}")
    lines = [f"{result.spec} ({', '.join(prices)})", _render.table(("part", "USD"), rows)]
    lines += [f"estimated: {note}" for note in result.estimated]
    return "\n".join(lines)


def _usage_file(path: str) -> Any:
    """The parsed JSON of `path` (`-`: stdin)."""
    try:
        data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()  # noqa: SIM115
        return msgspec.json.decode(data)
    except OSError as exc:
        raise InvalidUsage(f"--usage {path}: {exc.strerror}") from None
    except msgspec.DecodeError as exc:
        raise InvalidUsage(f"--usage {path}: not JSON ({exc})") from None


def info(catalog: Catalog, args: argparse.Namespace) -> str:
    data = catalog.info()
    if args.json:
        return _render.to_json(data)
    lines = [
        f"snapshot:  {data['path']}",
        f"epoch:     {data['epoch']} (built {data['built_at']}, format {data['format_version']},"
        f" schema {data['schema_version']})",
        f"content:   {data['content_hash']}",
        f"profile:   {data['profile'] or 'none (the base catalog)'}; the file has "
        + (", ".join(data["profiles"]) or "no profiles"),
        f"models:    {data['models']} from {data['providers']} providers;"
        f" {data['denied']} denied by rules, {data['excluded']} excluded",
    ]
    lines += [
        f"source:    {s['name']} ({s['kind']}) {s['file'] or '-'} {s['version'] or ''}".rstrip()
        for s in data["sources"]
    ]
    if "refused" in data:
        lines.append(f"refused:   {data['refused']}")
    daemon: contract.Status | None = data.get("daemon")
    if daemon is not None:
        state = f"not running ({daemon.down})" if daemon.down else "running"
        lines.append(
            f"daemon:    {state}, pid {daemon.pid}, last build {daemon.updated_at}"
            f" ({daemon.trigger}), {len(daemon.rejected_files)} rejected file(s),"
            f" {daemon.build_issue_count} build issue(s)"
        )
        lines += [f"fleet:     {line}" for line in contract.fleet_lines(daemon)]
    return "\n".join(lines)


def history(catalog: Catalog, args: argparse.Namespace) -> str:
    events = catalog.history(args.spec, args.field)
    if args.json:
        return _render.to_json(events)
    dates = catalog.lifecycle(args.spec)
    seen = f"{dates.spec}: introduced {dates.introduced or '-'}"
    if dates.introduced is not None and dates.introduced == dates.history_begins:
        seen += " (when the history begins)"
    seen += f", last changed {dates.last_changed or '-'}"
    if dates.removed:
        seen += f", removed {dates.removed}"
    return seen + "\n" + _render.events(events)


def compare(catalog: Catalog, args: argparse.Namespace) -> str:
    specs = args.specs
    if args.hosts is not None:  # one model across its cheapest hosts
        if len(specs) != 1:
            raise InvalidQuery("compare --hosts takes one model name")
        specs = [m.spec for m in catalog.hosts(specs[0])[: args.hosts]]
        if not specs:
            raise InvalidQuery(
                f"no active host of {args.specs[0]!r}; `llmdb hosts NAME --include-deprecated` lists them"
            )
    found = catalog.compare(*specs)
    compared = len(found.fields)
    if args.differences:
        found = found.differences()
    if args.json:
        return _render.to_json(found)
    differs = set(found.differs)
    rows = [
        ("*" if path in differs else "", path, *(_render.clipped(_render.shown(v) or "-") for v in values))
        for path, values in found.fields.items()
    ]
    note = f"{len(found.differs)} of {compared} field(s) differ (*)"
    return _render.table(("", "field", *found.specs), rows) + "\n" + note


def changes(catalog: Catalog, args: argparse.Namespace) -> str:
    events = catalog.changes(args.since, provider=args.provider, field=args.field)
    return _render.to_json(events) if args.json else _render.events(events)


def diff(catalog: Catalog, args: argparse.Namespace) -> str:
    found = catalog.diff(_epoch_or_path(args.old), None if args.new is None else _epoch_or_path(args.new))
    if args.json:
        return _render.to_json(found)
    view = f"profile {found.profile}" if found.profile else "the base catalog"
    if catalog.profile and not found.profile:
        view += f" (a file has no profile {catalog.profile!r})"
    lines = [f"{found.old} → {found.new}, as {view}"]
    lines += [f"+ {spec}" for spec in found.added]
    lines += [f"- {spec}" for spec in found.removed]
    for spec, fields in found.changed.items():
        lines += [
            f"~ {spec}  {f.field}: {_render.clipped(_render.shown(f.old))} → {_render.clipped(_render.shown(f.new))}"
            for f in fields
        ]
    lines.append(
        f"{len(found.added)} added, {len(found.removed)} removed, {len(found.changed)} changed; providers "
        f"{len(found.providers_added)} added, {len(found.providers_removed)} removed"
    )
    return "\n".join(lines)


def _epoch_or_path(text: str) -> str | int:
    return int(text) if text.isdigit() else text


def verify(catalog: Catalog, args: argparse.Namespace) -> str:
    """Every check a reader makes when it first needs a part, made now on the whole file: its header and
    sections, each index part, every record and the provenance (`Snapshot.verify`), read as the base catalog
    and as each of its profiles (whose own records are decoded only under it); and that every name and alias
    leads to a model the file has (else a lookup of it fails as "not found")."""
    from llmdb._snapshot import Snapshot

    path = Path(args.snapshot) if args.snapshot else default_path()
    snap = Snapshot(path)
    for view in [snap, *(Snapshot(path, profile=name) for name in sorted(snap.profiles))]:
        view.verify()
    for table, what in ((snap.names, "names table"), (snap.model_aliases, "model aliases")):
        for name, spec in table.items():
            if snap.ordinal(spec) is None:
                raise SnapshotError(f"{path}: {what}: {name!r} leads to {spec!r}, which the file does not have")
    found = {
        "path": str(path),
        "ok": True,
        "epoch": snap.epoch,
        "content_hash": snap.content_hash,
        "format_version": snap.format_version,
        "schema_version": snap.schema_version,
        "models": snap.model_count,
        "providers": len(snap.providers),
        "profiles": sorted(snap.profiles),
    }
    if args.json:
        return _render.to_json(found)
    return (
        f"{path}: ok: epoch {snap.epoch}, format {snap.format_version}, schema {snap.schema_version},"
        f" {snap.model_count} records, {len(snap.providers)} providers, content {snap.content_hash}"
    )
