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

from llmdb import _commands, _render
from llmdb._catalog import Catalog, default_path
from llmdb._features import FEATURES
from llmdb._responses import APIS
from llmdb._usage import SERVICE_TIERS
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
        _commands.not_a_directory(Path(args.snapshot) if args.snapshot is not None else default_path())
        catalog = Catalog(args.snapshot, profile=args.profile)
        out = args.run(catalog, args)
    except (ModelNotFound, NoMatch, PriceUnknown) as exc:
        if args.json and isinstance(exc, NoMatch):
            _emit(_render.to_json({"model": None, "trace": exc.trace, "error": str(exc)}))
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


def _positive(text: str) -> int:
    """An argument that is a whole number >= 1."""
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, not {text!r}")
    return value


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
    _at(p)
    p.set_defaults(run=_commands.get)

    p = sub.add_parser("resolve", parents=[common], help="the spec a name stands for, and the rule that found it")
    p.add_argument("name", help="any name `get` accepts (gpt-4o, vertex_ai/gemini-2.5-pro, bedrock/...)")
    p.add_argument("--scope", type=_csv, help="bare ids only among these providers (comma-separated)")
    p.set_defaults(run=_commands.resolve)

    p = sub.add_parser("list", parents=[common], help="models matching filters")
    p.add_argument("--provider")
    p.add_argument("--same-as", metavar="NAME", help="only the model NAME stands for, on every host")
    _filters(p)
    p.set_defaults(run=_commands.list_models)

    p = sub.add_parser("hosts", parents=[common], help="every provider offering a model: prices, limits, lifecycle")
    p.add_argument("name", help="any name `get` accepts")
    p.add_argument("--include-deprecated", action="store_true", default=False, help="also deprecated and retired")
    p.add_argument("--order-by", default="cost", choices=["spec", "cost", "context", "release_date"])
    _at(p)
    p.set_defaults(run=_commands.hosts)

    p = sub.add_parser("select", parents=[common], help="the best model for requirements, with a trace")
    _filters(p)
    p.add_argument("--prefer", type=_csv, default=[], help="providers to try first, in order (comma-separated)")
    p.add_argument("--like", metavar="SPEC", help="fall back to models of this model's family (else its base id)")
    p.add_argument("--scope", type=_csv, help="only these providers (comma-separated)")
    p.set_defaults(run=_commands.select)

    p = sub.add_parser("explain", parents=[common], help="where each field's value came from")
    p.add_argument("spec")
    p.set_defaults(run=_commands.explain)

    p = sub.add_parser("providers", parents=[common], help="all providers")
    p.set_defaults(run=_commands.providers)

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
    for unit, kind, what in _commands.UNIT_OPTIONS:
        p.add_argument(f"--{unit.replace('_', '-')}", dest=unit, type=kind, default=0, help=what)
    p.set_defaults(run=_commands.cost)

    p = sub.add_parser("serve", parents=[common], help="serve the catalog over HTTP (the `serve` extra; docs/serve.md)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=_count, default=8787, help="port (default 8787)")
    p.set_defaults(run=_commands.serve)

    p = sub.add_parser("info", parents=[common], help="the snapshot being read")
    p.set_defaults(run=_commands.info)

    p = sub.add_parser("history", parents=[common], help="a model's timeline: introduced, field changes, removed")
    p.add_argument("spec", help="any name `get` accepts, or the spec of a model no longer in the catalog")
    p.add_argument("--field", help="only this field path or glob (cost.input, cost.*)")
    p.set_defaults(run=_commands.history)

    p = sub.add_parser("compare", parents=[common], help="models side by side: limits, prices, features, lifecycle")
    p.add_argument("specs", nargs="+", metavar="SPEC")
    p.add_argument("--differences", action="store_true", help="only the fields whose values differ")
    p.add_argument(
        "--hosts", type=_positive, nargs="?", const=4, metavar="N", help="one model on its N cheapest hosts (default 4)"
    )
    p.set_defaults(run=_commands.compare)

    p = sub.add_parser("changes", parents=[common], help="what changed across the catalog since a date")
    p.add_argument("--since", required=True, help="ISO date or time (2026-07-01, 2026-07-01T12:00Z)")
    p.add_argument("--provider")
    p.add_argument("--field", help="only this field path or glob (cost.*)")
    p.set_defaults(run=_commands.changes)

    p = sub.add_parser("diff", parents=[common], help="two snapshot files or retained epochs, model by model")
    p.add_argument("old", help="a snapshot file, or an epoch the daemon retains")
    p.add_argument("new", nargs="?", help="the same (default: the catalog being served)")
    p.set_defaults(run=_commands.diff)

    p = sub.add_parser(
        "verify", parents=[common], help="check a whole snapshot file now: every part and record (exit 3 if not)"
    )
    p.add_argument("path", nargs="?", metavar="PATH", help="the file (default: --snapshot, else the one llmdb reads)")
    p.set_defaults(run=_commands.verify)
    return parser


def _filters(p: argparse.ArgumentParser) -> None:
    """The filters `list` and `select` share."""
    keys = ", ".join(FEATURES)
    p.add_argument("--require", type=_csv, help=f"features that must hold (comma-separated: {keys})")
    p.add_argument("--forbid", type=_csv, help="features that must not hold")
    p.add_argument(
        "--order-by", choices=["spec", "cost", "context", "release_date", "intelligence", "coding", "agentic"]
    )
    p.add_argument("--input", action="append", metavar="MODALITY", help="required input modality (repeatable)")
    p.add_argument("--output", action="append", metavar="MODALITY", help="required output modality (repeatable)")
    p.add_argument("--mode", type=_csv, help="any of these modes (chat, embedding, image_generation, rerank, ...)")
    p.add_argument("--min-context", type=_count, metavar="TOKENS")
    p.add_argument("--min-output", type=_count, metavar="TOKENS")
    p.add_argument("--max-input-cost", type=_amount, metavar="USD", help="per 1M input tokens")
    p.add_argument("--max-output-cost", type=_amount, metavar="USD", help="per 1M output tokens")
    for index in ("intelligence", "coding", "agentic"):
        p.add_argument(f"--min-{index}", type=_amount, metavar="INDEX", help=f"{index} index at least (0-100)")
    p.add_argument("--include-deprecated", action="store_true")
    _at(p)


def _at(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--at", metavar="DATE", default=None, help="lifecycle (deprecated, retired) as of this day, not today"
    )


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


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


if __name__ == "__main__":
    sys.exit(main())
