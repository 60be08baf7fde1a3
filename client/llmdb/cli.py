"""llmdb: look models up from the shell. Tables by default, the schema's JSON with --json.

Exit codes:
  0    success
  1    not found, excluded, no match, price unknown
  2    invalid usage, spec, query or date; ambiguous name (the message lists the valid choices)
  3    unreadable snapshot or history (none beside the snapshot, an epoch no longer retained)
  4    the output cannot be written (a full disk)
  141  the reader of a pipe closed it before all the output was written, as SIGPIPE would (a long
       `llmdb list | head -1` may; an output that fits in the pipe exits 0)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import msgspec

from llmdb import contract
from llmdb._catalog import Catalog, default_path
from llmdb._features import FEATURES, features_of
from llmdb._history import Change
from llmdb._usage import APIS, SERVICE_TIERS
from llmdb.errors import (
    AmbiguousModel,
    HistoryError,
    InvalidQuery,
    InvalidSpec,
    InvalidUsage,
    LLMDBError,
    ModelNotFound,
    NoMatch,
    PriceUnknown,
    SnapshotError,
    UnknownProfile,
    UnknownProvider,
)
from llmdb.schema import Cost, Model, TokenPrices

_JSON = msgspec.json.Encoder()
WRITE_FAILED = 4
"""The exit code when the output cannot be written (other than a closed pipe: 141)."""


class _OutputFailed(Exception):
    """Writing the output failed (`llmdb list > /dev/full`): one line on stderr and `WRITE_FAILED`."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    args.json, args.snapshot = getattr(args, "json", False), getattr(args, "snapshot", None)
    args.profile = getattr(args, "profile", None)
    try:
        return _main(args)
    except BrokenPipeError:  # the reader left (`| head`): no traceback, and no second error at exit
        _drop_stdout()
        return 141
    except _OutputFailed as exc:
        _drop_stdout()
        _error(f"cannot write the output: {exc}")
        return WRITE_FAILED


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's flush at exit has nothing left to fail on."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _main(args: argparse.Namespace) -> int:
    if getattr(args, "path", None) is not None:  # `verify PATH` reads that file, whatever the default is
        args.snapshot = args.path
    try:
        _not_a_directory(Path(args.snapshot) if args.snapshot is not None else default_path())
        catalog = Catalog(args.snapshot, profile=args.profile)
        out = args.run(catalog, args)
    except (ModelNotFound, NoMatch, PriceUnknown) as exc:
        if args.json and isinstance(exc, NoMatch):
            _emit(_json({"model": None, "trace": exc.trace, "error": str(exc)}))
        return _error(exc, 1)
    except (InvalidSpec, UnknownProvider, InvalidQuery, InvalidUsage, AmbiguousModel, UnknownProfile) as exc:
        return _error(exc, 2)
    except (SnapshotError, HistoryError) as exc:
        return _error(exc, 3)
    except LLMDBError as exc:
        return _error(exc, 1)
    if out is not None:
        _emit(out)
    return 0


def _emit(text: str) -> None:
    """`text` and a newline on stdout, flushed here so that a failed write shows inside `main`'s handlers.

    Written to the binary buffer until every byte is taken: a large write into a pipe whose reader left is
    otherwise cut short without an error (the buffer returns the count the pipe took)."""
    out = getattr(sys.stdout, "buffer", None)
    try:
        if out is None:  # a text-only stream (a test's capture)
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
            return
        sys.stdout.flush()
        data = memoryview((text + "\n").encode(sys.stdout.encoding, sys.stdout.errors or "strict"))
        while data:
            data = data[out.write(data) :]
        out.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise _OutputFailed(exc.strerror or str(exc)) from None


def _error(message: object, code: int = 1) -> int:
    """`llmdb: message` as one line on stderr; returns `code`."""
    text = " ".join(str(message).split())
    with contextlib.suppress(OSError):  # nowhere left to say it: the exit code still does
        print(f"llmdb: {text}", file=sys.stderr)
    return code


def _not_a_directory(path: Path) -> None:
    """`SnapshotError` saying so when `path` is a directory (opening one fails with a bare "Invalid argument")."""
    if path.is_dir():
        inside = path / contract.CATALOG_FILE
        hint = f"; the snapshot in it is {inside}" if inside.is_file() else ""
        raise SnapshotError(f"{path}: is a directory, not a snapshot file{hint}")


class _Parser(argparse.ArgumentParser):
    """One line for a malformed argument (`--input-tokens 1.5`), not the usage block: that is `--help`."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}; see {self.prog} --help\n")


class _Version(argparse.Action):
    """`--version`: the installed distribution's version, looked up only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> NoReturn:
        print(f"llmdb {version()}")
        parser.exit(0)


def version() -> str:
    """The version of the `llmdbd` distribution (which installs `llmdb`), else the package's own."""
    from importlib import metadata

    try:
        return metadata.version("llmdbd")
    except metadata.PackageNotFoundError:
        from llmdb import __version__

        return __version__


def _count(text: str) -> int:
    """An argument that is a whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, not {text!r}")
    return value


def _amount(text: str) -> float:
    """An argument that is a number >= 0 (a price)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, not {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    # SUPPRESS: options given before the command must not be reset by the command's own defaults.
    common = _Parser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--json", action="store_true", help="print the schema's JSON instead of a table")
    common.add_argument("--snapshot", metavar="PATH", help="read this snapshot file")
    common.add_argument("--profile", metavar="NAME", help="read the catalog as this profile ($LLMDB_PROFILE)")
    parser = _Parser(
        prog="llmdb", description=__doc__, parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action=_Version, help="print the installed version and exit")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    p = sub.add_parser("get", parents=[common], help="one model")
    p.add_argument("spec", help="provider:model, model@provider, provider/model, a LiteLLM name or a bare id")
    p.set_defaults(run=_get)

    p = sub.add_parser("resolve", parents=[common], help="the spec a name stands for, and the rule that found it")
    p.add_argument("name", help="any name `get` accepts (gpt-4o, vertex_ai/gemini-2.5-pro, bedrock/...)")
    p.add_argument("--scope", type=_csv, help="bare ids only among these providers (comma-separated)")
    p.set_defaults(run=_resolve)

    p = sub.add_parser("list", parents=[common], help="models matching filters")
    p.add_argument("--provider")
    _filters(p)
    p.set_defaults(run=_list)

    p = sub.add_parser("select", parents=[common], help="the best model for requirements, with a trace")
    _filters(p)
    p.add_argument("--prefer", type=_csv, default=[], help="providers to try first, in order (comma-separated)")
    p.add_argument("--like", metavar="SPEC", help="fall back to models of this model's family (else its base id)")
    p.add_argument("--scope", type=_csv, help="only these providers (comma-separated)")
    p.set_defaults(run=_select)

    p = sub.add_parser("explain", parents=[common], help="where each field's value came from")
    p.add_argument("spec")
    p.set_defaults(run=_explain)

    p = sub.add_parser("providers", parents=[common], help="all providers")
    p.set_defaults(run=_providers)

    p = sub.add_parser(
        "cost",
        parents=[common],
        help="price one request",
        description=_COST_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spec")
    p.add_argument("--usage", metavar="FILE", help="a JSON response or its usage part, from any SDK; - for stdin")
    p.add_argument("--api", choices=APIS, help="read --usage as this shape instead of detecting it")
    p.add_argument("--input-tokens", type=int, default=0, help="every prompt token, cached ones included")
    p.add_argument("--output-tokens", type=int, default=0, help="every generated token, reasoning included")
    p.add_argument("--cache-read-tokens", type=int, default=0, help="part of --input-tokens read from cache")
    p.add_argument("--cache-write-tokens", type=int, default=0, help="part of --input-tokens written to cache")
    p.add_argument("--reasoning-tokens", type=int, default=0, help="part of --output-tokens spent reasoning")
    p.add_argument("--service-tier", choices=["standard", *SERVICE_TIERS], help="price at this service tier")
    p.add_argument("--at", metavar="DATE", help="price with the prices in force then (from the history)")
    for unit, kind, what in _UNIT_OPTIONS:
        p.add_argument(f"--{unit.replace('_', '-')}", dest=unit, type=kind, default=0, help=what)
    p.set_defaults(run=_cost)

    p = sub.add_parser("info", parents=[common], help="the snapshot being read")
    p.set_defaults(run=_info)

    p = sub.add_parser("history", parents=[common], help="a model's timeline: introduced, field changes, removed")
    p.add_argument("spec", help="any name `get` accepts, or the spec of a model no longer in the catalog")
    p.add_argument("--field", help="only this field path or glob (cost.input, cost.*)")
    p.set_defaults(run=_history)

    p = sub.add_parser("compare", parents=[common], help="models side by side: limits, prices, features, lifecycle")
    p.add_argument("specs", nargs="+", metavar="SPEC")
    p.add_argument("--differences", action="store_true", help="only the fields whose values differ")
    p.set_defaults(run=_compare)

    p = sub.add_parser("changes", parents=[common], help="what changed across the catalog since a date")
    p.add_argument("--since", required=True, help="ISO date or time (2026-07-01, 2026-07-01T12:00Z)")
    p.add_argument("--provider")
    p.add_argument("--field", help="only this field path or glob (cost.*)")
    p.set_defaults(run=_changes)

    p = sub.add_parser("diff", parents=[common], help="two snapshot files or retained epochs, model by model")
    p.add_argument("old", help="a snapshot file, or an epoch the daemon retains")
    p.add_argument("new", nargs="?", help="the same (default: the catalog being served)")
    p.set_defaults(run=_diff)

    p = sub.add_parser(
        "verify", parents=[common], help="check a whole snapshot file now: every part and record (exit 3 if not)"
    )
    p.add_argument("path", nargs="?", metavar="PATH", help="the file (default: --snapshot, else the one llmdb reads)")
    p.set_defaults(run=_verify)
    return parser


def _filters(p: argparse.ArgumentParser) -> None:
    """The filters `list` and `select` share."""
    keys = ", ".join(FEATURES)
    p.add_argument("--require", type=_csv, help=f"features that must hold (comma-separated: {keys})")
    p.add_argument("--forbid", type=_csv, help="features that must not hold")
    p.add_argument("--order-by", choices=["spec", "cost", "context", "release_date"])
    p.add_argument("--input", action="append", metavar="MODALITY", help="required input modality (repeatable)")
    p.add_argument("--output", action="append", metavar="MODALITY", help="required output modality (repeatable)")
    p.add_argument("--mode", type=_csv, help="any of these modes (chat, embedding, image_generation, rerank, ...)")
    p.add_argument("--min-context", type=_count, metavar="TOKENS")
    p.add_argument("--min-output", type=_count, metavar="TOKENS")
    p.add_argument("--max-input-cost", type=_amount, metavar="USD", help="per 1M input tokens")
    p.add_argument("--max-output-cost", type=_amount, metavar="USD", help="per 1M output tokens")
    p.add_argument("--include-deprecated", action="store_true")


def _filter_args(args: argparse.Namespace) -> dict[str, Any]:
    """`_filters`' values as `models()` and `select()` take them."""
    names = ("input", "output", "mode", "min_context", "min_output", "max_input_cost", "max_output_cost")
    return {name: getattr(args, name) for name in names} | {
        "require": args.require,
        "forbid": args.forbid,
        "order_by": args.order_by,
        "include_deprecated": args.include_deprecated,
    }


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _get(catalog: Catalog, args: argparse.Namespace) -> str:
    model = catalog.get(args.spec)
    if args.json:
        return _json(model)
    return _model_card(model, catalog.snapshot.denied.get(model.spec))


def _resolve(catalog: Catalog, args: argparse.Namespace) -> str:
    found = catalog.resolve_name(args.name, scope=args.scope)
    if args.json:
        return _json({"name": args.name, "spec": found.spec, "rule": found.rule})
    return f"{found.spec}  ({found.rule})"


def _list(catalog: Catalog, args: argparse.Namespace) -> str:
    found = catalog.models(args.provider, **_filter_args(args))
    if args.json:
        return _json(list(found))
    return _model_table(found) + f"\n{len(found)} model(s)"


def _select(catalog: Catalog, args: argparse.Namespace) -> str:
    chosen = catalog.select(prefer=args.prefer, like=args.like, scope=args.scope, **_filter_args(args))
    if args.json:
        return _json({"model": chosen.model, "trace": chosen.trace})
    lines = [f"{chosen.model.spec}  ({chosen.model.name or chosen.model.id})", ""]
    for step in chosen.trace:
        why = ", ".join(f"{n} failed {r}" for r, n in step.rejected_by.items())
        lines.append(
            f"  {step.step}: {step.candidates} candidate(s), {step.matched} matched" + (f"; {why}" if why else "")
        )
    return "\n".join(lines)


def _explain(catalog: Catalog, args: argparse.Namespace) -> str:
    prov = catalog.explain(args.spec)
    if args.json:
        return _json(prov)
    rows = []
    for path, p in prov.items():
        note = " (deleted)" if p.deleted else ""
        over = "; over " + ", ".join(f"{o.source}={o.value!r}" for o in p.overridden) if p.overridden else ""
        rows.append((path, p.source + note, (p.file or "") + over))
    return _table(("field", "source", "file / overridden"), rows)


def _providers(catalog: Catalog, args: argparse.Namespace) -> str:
    providers = catalog.providers()
    if args.json:
        return _json(providers)
    counts: dict[str, int] = {}
    for spec in catalog.snapshot.specs:
        pid = spec.split(":", 1)[0]
        counts[pid] = counts.get(pid, 0) + 1
    rows = [(p.id, p.name or "", str(counts.get(p.id, 0)), ", ".join(p.aliases)) for p in providers]
    return _table(("id", "name", "models", "aliases"), rows) + f"\n{len(providers)} provider(s)"


_COST_HELP = """Price one request, from token counts or from a response's usage (--usage).

Counts follow OpenAI's convention, as LiteLLM and genai-prices do:
  --input-tokens   every prompt token, cached ones included; --cache-read-tokens and
                   --cache-write-tokens are the parts of it billed at cache prices.
  --output-tokens  every generated token, reasoning included; --reasoning-tokens is the part
                   billed at a distinct reasoning price where the model has one.
The context tier is chosen by the whole prompt (--input-tokens). A tier's missing price is
inherited from the base prices and the result marked estimated. --service-tier prices with that
tier's prices, or fails: never a silent standard price. A part without a price fails (exit 1).

  llmdb cost openai:gpt-4o --input-tokens 10000 --output-tokens 2000 --cache-read-tokens 4000
  llmdb cost anthropic:claude-sonnet-4-5 --usage response.json
  curl ... | llmdb cost gemini-2.5-pro --usage -
"""
_UNIT_OPTIONS = (
    ("images", int, "images generated"),
    ("audio_seconds", float, "seconds of audio sent"),
    ("characters", int, "characters sent (speech synthesis)"),
    ("requests", int, "requests, for models priced per request"),
    ("web_searches", int, "web searches run"),
)
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


def _cost(catalog: Catalog, args: argparse.Namespace) -> str:
    units = {unit: getattr(args, unit) for unit, _, _ in _UNIT_OPTIONS}
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
        return _json(result)
    rows = [(k, f"${getattr(result, k):.6f}") for k in _COST_PARTS if getattr(result, k) or k in ("input", "output")]
    rows += [(k, f"${v:.6f}") for k, v in result.per_unit.items()]
    rows.append(("total", f"${result.total:.6f}"))
    prices = ["service tier " + (result.service_tier or "standard")]
    if result.tier is not None:
        prices.append(f"context tier above {result.tier} tokens")
    if args.at is not None:
        prices.append(f"prices as of {args.at}")
    lines = [f"{result.spec} ({', '.join(prices)})", _table(("part", "USD"), rows)]
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


def _info(catalog: Catalog, args: argparse.Namespace) -> str:
    data = catalog.info()
    if args.json:
        return _json(data)
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


def _model_card(m: Model, denied_by: str | None) -> str:
    """One model as `field  value` lines: what is known, `-` for what is not (prices per 1M tokens)."""
    life = m.lifecycle
    ends = [
        f"{k} {v}"
        for k, v in (
            ("deprecated", life.deprecation_date),
            ("retired", life.retirement_date),
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
        ("mode", m.mode),
        ("status", m.status + (f" (denied by rule: {denied_by})" if denied_by else "")),
        ("lifecycle", ", ".join(ends)),
        ("context", m.limits.context),
        ("input limit", m.limits.input),
        ("output limit", m.limits.output),
        *_price_rows(m.cost),
        ("modalities", f"{','.join(m.modalities.input) or '-'} -> {','.join(m.modalities.output) or '-'}"),
        ("features", ", ".join(k for k, v in features_of(m).items() if v)),
    ]
    if reasoning.enabled:
        budget = (reasoning.token_budget_min, reasoning.token_budget_max)
        rows.append(("reasoning budget", "-" if budget == (None, None) else f"{_num(budget[0])}..{_num(budget[1])}"))
    rows += [("released", m.release_date), ("knowledge", m.knowledge)]
    return "\n".join(f"{k:<17}{'-' if v is None or v == '' else v}" for k, v in rows)


def _price_rows(cost: Cost | None) -> list[tuple[str, object]]:
    """The card's price lines: base prices with the cache's, then each context tier, service tier and per-unit
    price the model has."""
    if cost is None:
        return [("price", "unknown")]
    rows: list[tuple[str, object]] = [("price", "per 1M tokens: " + _prices(cost))]
    rows += [("", f"above {t.above} tokens: {_prices(t)}") for t in cost.tiers]
    for name in SERVICE_TIERS:
        service = getattr(cost, name)
        if service is not None:
            rows.append((f"{name} price", _prices(service)))
            rows += [("", f"above {t.above} tokens: {_prices(t)}") for t in service.tiers]
    units = msgspec.structs.asdict(cost.per_unit) if cost.per_unit is not None else {}
    shown = [f"{k.replace('_', ' ')} {_usd(v)}" for k, v in units.items() if v is not None]
    if shown:
        rows.append(("per unit", ", ".join(shown)))
    return rows


_PRICE_PARTS = (
    ("cache_read", "cache read"),
    ("cache_write", "cache write"),
    ("cache_write_1h", "cache write 1h"),
    ("reasoning", "reasoning"),
    ("input_audio", "audio in"),
    ("output_audio", "audio out"),
    ("input_image", "image in"),
    ("output_image", "image out"),
)


def _prices(p: TokenPrices) -> str:
    """`$2.5 in / $10 out, cache read $1.25`: input and output always (`-` when unknown), the others when set."""
    parts = [f"{_usd(p.input)} in / {_usd(p.output)} out"]
    parts += [f"{label} {_usd(getattr(p, k))}" for k, label in _PRICE_PARTS if getattr(p, k) is not None]
    return ", ".join(parts)


def _usd(value: float | None) -> str:
    """`$0.143`, `$10`; `-` when unknown (never `$None`); no exponent for tiny prices."""
    return "-" if value is None else "$" + (f"{value:.10f}".rstrip("0").rstrip(".") or "0")


def _model_table(models: Sequence[Model]) -> str:
    rows = [
        (
            m.spec,
            _num(m.limits.context),
            _num(m.limits.output),
            "-" if m.cost is None or m.cost.input is None else f"{m.cost.input:g}",
            "-" if m.cost is None or m.cost.output is None else f"{m.cost.output:g}",
            m.release_date or "",
        )
        for m in models
    ]
    return _table(("spec", "context", "output", "$in/1M", "$out/1M", "released"), rows)


def _num(value: int | None) -> str:
    return "-" if value is None else str(value)


def _history(catalog: Catalog, args: argparse.Namespace) -> str:
    events = catalog.history(args.spec, args.field)
    if args.json:
        return _json(events)
    dates = catalog.lifecycle(args.spec)
    seen = f"{dates.spec}: introduced {dates.introduced or '-'}"
    if dates.introduced is not None and dates.introduced == dates.history_begins:
        seen += " (when the history begins)"
    seen += f", last changed {dates.last_changed or '-'}"
    if dates.removed:
        seen += f", removed {dates.removed}"
    return seen + "\n" + _events(events)


def _compare(catalog: Catalog, args: argparse.Namespace) -> str:
    found = catalog.compare(*args.specs)
    compared = len(found.fields)
    if args.differences:
        found = found.differences()
    if args.json:
        return _json(found)
    differs = set(found.differs)
    rows = [
        ("*" if path in differs else "", path, *(_clipped(_shown(v) or "-") for v in values))
        for path, values in found.fields.items()
    ]
    note = f"{len(found.differs)} of {compared} field(s) differ (*)"
    return _table(("", "field", *found.specs), rows) + "\n" + note


def _changes(catalog: Catalog, args: argparse.Namespace) -> str:
    events = catalog.changes(args.since, provider=args.provider, field=args.field)
    return _json(events) if args.json else _events(events)


def _events(events: Sequence[Change]) -> str:
    rows = [
        (
            e.at,
            str(e.epoch or ""),
            e.kind,
            e.spec,
            e.field or "",
            _clipped(_shown(e.old)),
            _clipped(_shown(e.new)),
            e.source or "",
        )
        for e in events
    ]
    return _table(("at", "epoch", "event", "spec", "field", "old", "new", "source"), rows) + f"\n{len(events)} event(s)"


def _diff(catalog: Catalog, args: argparse.Namespace) -> str:
    found = catalog.diff(_epoch_or_path(args.old), None if args.new is None else _epoch_or_path(args.new))
    if args.json:
        return _json(found)
    view = f"profile {found.profile}" if found.profile else "the base catalog"
    if catalog.profile and not found.profile:
        view += f" (a file has no profile {catalog.profile!r})"
    lines = [f"{found.old} → {found.new}, as {view}"]
    lines += [f"+ {spec}" for spec in found.added]
    lines += [f"- {spec}" for spec in found.removed]
    for spec, fields in found.changed.items():
        lines += [f"~ {spec}  {f.field}: {_clipped(_shown(f.old))} → {_clipped(_shown(f.new))}" for f in fields]
    lines.append(
        f"{len(found.added)} added, {len(found.removed)} removed, {len(found.changed)} changed; providers "
        f"{len(found.providers_added)} added, {len(found.providers_removed)} removed"
    )
    return "\n".join(lines)


def _epoch_or_path(text: str) -> str | int:
    return int(text) if text.isdigit() else text


def _shown(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else _json(value)


def _clipped(text: str, width: int = 60) -> str:
    """A table cell cut to `width` characters (a field like `extra` can hold a long JSON object; `--json` has
    it whole)."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*r).rstrip() for r in [header, *rows])


def _json(value: Any) -> str:
    return _JSON.encode(value).decode()


def _verify(catalog: Catalog, args: argparse.Namespace) -> str:
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
        return _json(found)
    return (
        f"{path}: ok: epoch {snap.epoch}, format {snap.format_version}, schema {snap.schema_version},"
        f" {snap.model_count} records, {len(snap.providers)} providers, content {snap.content_hash}"
    )


if __name__ == "__main__":
    sys.exit(main())
