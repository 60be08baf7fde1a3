"""`llmdbd`: build, check and publish the llmdb catalog.

llmdbd build --upstream api.json [--patches DIR]... [--overrides FILE] (--output FILE | --state-dir DIR)
llmdbd check [--upstream api.json] [--patches DIR]... [--overrides FILE]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import msgspec

from llmdbd.build import BuildError, build, collect_layers
from llmdbd.catalog import Catalog
from llmdbd.layer import Layer
from llmdbd.report import render
from llmdbd.sources import modelsdev


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llmdbd", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    for name, run, text in (
        ("build", _build, "build the catalog and write or publish a snapshot"),
        ("check", _check, "build without publishing and print the report; exit 1 on errors"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("--upstream", metavar="FILE", help="models.dev api.json (default: the packaged catalog)")
        p.add_argument("--patches", metavar="DIR", action="append", default=[], help="patch directory (repeatable)")
        p.add_argument("--overrides", metavar="FILE", help="Python module defining `overrides`")
        p.add_argument("--json", action="store_true", help="print the build report as JSON")
        if name == "build":
            where = p.add_mutually_exclusive_group(required=True)
            where.add_argument("--output", metavar="FILE", help="write the snapshot to this file")
            where.add_argument("--state-dir", metavar="DIR", help="publish into this state directory")
            p.add_argument("--keep", type=int, default=5, help="snapshots retained in the state directory")
        p.set_defaults(run=run)
    args = parser.parse_args(argv)
    return int(args.run(args))


def _layers(args: argparse.Namespace) -> list[Layer]:
    upstream = modelsdev.load_path(args.upstream) if args.upstream else None
    return collect_layers(upstream=upstream, patch_dirs=args.patches, overrides_module=args.overrides)


def _catalog(args: argparse.Namespace) -> Catalog | None:
    try:
        catalog = build(_layers(args))
    except BuildError as exc:
        _print_report(args, exc.report)
        print(f"llmdbd: {exc}", file=sys.stderr)
        return None
    _print_report(args, catalog.report)
    return catalog


def _print_report(args: argparse.Namespace, report: object) -> None:
    from llmdb.schema import BuildReport

    assert isinstance(report, BuildReport)
    if args.json:
        print(msgspec.json.encode(report).decode())
    else:
        print(render(report), file=sys.stderr)


def _build(args: argparse.Namespace) -> int:
    from llmdbd.publish import publish, write_snapshot

    catalog = _catalog(args)
    if catalog is None:
        return 1
    if args.output:
        result = write_snapshot(catalog, args.output)
    else:
        published = publish(catalog, args.state_dir, keep=args.keep)
        if published is None:
            print(f"unchanged: content hash {catalog.content_hash} is already published", file=sys.stderr)
            return 0
        result = published
    print(
        f"wrote {result.path}: epoch {result.epoch}, {result.size} bytes, content hash {result.content_hash}",
        file=sys.stderr,
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    return 1 if catalog is None or catalog.report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
