"""`llmdbd`: build, check and publish the llmdb catalog.

llmdbd build --upstream api.json [--patches DIR]... [--overrides FILE] (--output FILE | --state-dir DIR)
llmdbd check [--upstream api.json] [--patches DIR]... [--overrides FILE]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import msgspec

from llmdbd.build import BuildError, build, collect_layers
from llmdbd.catalog import Catalog
from llmdbd.config import Config, ConfigError, load
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
        p.add_argument("--config", metavar="FILE", help="also use a daemon config: its patch dirs, overrides, rules")
        p.add_argument("--json", action="store_true", help="print the build report as JSON")
        if name == "build":
            where = p.add_mutually_exclusive_group(required=True)
            where.add_argument("--output", metavar="FILE", help="write the snapshot to this file")
            where.add_argument("--state-dir", metavar="DIR", help="publish into this state directory")
            p.add_argument("--keep", type=int, default=5, help="snapshots retained in the state directory")
        p.set_defaults(run=run)
    p = sub.add_parser("run", help="run the daemon: publish, then watch patches and poll upstream")
    p.add_argument("--config", metavar="FILE", help="TOML configuration (default /etc/llmdb/llmdbd.toml)")
    p.add_argument("--state-dir", metavar="DIR", help="where catalog.llmdb is published (default /var/lib/llmdb)")
    p.set_defaults(run=_run)
    p = sub.add_parser("pull", help="fetch upstream into the state directory's cache")
    p.add_argument("--config", metavar="FILE")
    p.add_argument("--state-dir", metavar="DIR")
    p.set_defaults(run=_pull)
    p = sub.add_parser("status", help="print the daemon's status file")
    p.add_argument("--config", metavar="FILE")
    p.add_argument("--state-dir", metavar="DIR")
    p.set_defaults(run=_status)
    args = parser.parse_args(argv)
    return int(args.run(args))


def _config(args: argparse.Namespace) -> Config | None:
    """The configuration `--config`/`--state-dir` name, or None after saying why it is refused."""
    env = dict(os.environ)
    if args.state_dir:
        env["LLMDBD_STATE_DIR"] = args.state_dir
    try:
        return load(args.config, env)[0]
    except ConfigError as exc:
        print(f"llmdbd: {exc}", file=sys.stderr)
        return None


def _run(args: argparse.Namespace) -> int:
    from llmdbd.daemon import main as run_daemon

    return run_daemon(args.config, args.state_dir)


def _pull(args: argparse.Namespace) -> int:
    import anyio

    from llmdbd import upstream

    config = _config(args)
    if config is None:
        return 2
    cached = upstream.read_cache(config.state_dir)
    try:
        got = anyio.run(upstream.fetch, config.upstream, cached[1] if cached else None)
        if got is None:
            print(f"not modified: {config.upstream.url}", file=sys.stderr)
            return 0
        body, meta = got
        layer = upstream.accept(body, cached[1].models if cached else 0, config.upstream.max_shrink, meta.url)
    except upstream.FetchError as exc:
        print(f"llmdbd: {exc}", file=sys.stderr)
        return 1
    meta.models = sum(1 for f in layer.fragments if f.model is not None)
    upstream.write_cache(config.state_dir, body, meta)
    print(f"cached {len(body)} bytes, {meta.models} models from {meta.url}", file=sys.stderr)
    return 0


def _status(args: argparse.Namespace) -> int:
    from llmdbd import status

    config = _config(args)
    if config is None:
        return 2
    data = status.read(config.state_dir)
    if data is None:
        print(f"llmdbd: no status in {config.state_dir} (is the daemon running there?)", file=sys.stderr)
        return 1
    print(msgspec.json.format(msgspec.json.encode(data), indent=2).decode())
    return 0


def _catalog(args: argparse.Namespace) -> Catalog | None:
    """Build from the command line's inputs (and `--config`'s); None after printing why it failed."""
    config = None
    if args.config:
        try:
            config = load(args.config, {})[0]
        except ConfigError as exc:
            print(f"llmdbd: {exc}", file=sys.stderr)
            return None
    if args.upstream:
        upstream = modelsdev.load_path(args.upstream)
    elif config is not None and config.upstream.file:
        upstream = modelsdev.load_path(config.upstream.file)
    else:
        from llmdbd.sources import packaged

        upstream = packaged.load()
    layers = collect_layers(
        upstream=upstream,
        patch_dirs=[*(config.patch_dirs if config else ()), *args.patches],
        config_overrides=config.overrides if config else None,
        config_file=args.config,
        overrides_module=args.overrides or (config.overrides_module if config else None),
    )
    try:
        catalog = build(layers, config.rules() if config else None)
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
