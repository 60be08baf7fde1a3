"""`llmdbd`: build, check and publish the llmdb catalog, and run the daemon.

llmdbd build [--upstream [NAME=]FILE]... [--patches DIR]... [--overrides FILE] (--output FILE | --state-dir DIR)
llmdbd check [--upstream [NAME=]FILE]... [--patches DIR]... [--overrides FILE] [--json] [--conflicts]

--upstream models.dev=api.json --upstream litellm=FILE (FILE alone is models.dev's; --litellm FILE still works).
Without upstream files (or their config `file`s), builds start from the packaged catalog.
llmdbd run [--config FILE] [--state-dir DIR]
llmdbd pull | status [--config FILE] [--state-dir DIR]
llmdbd history import FILE@DATE... (--state-dir DIR | --output FILE)

Exit codes: 0 success, 1 build errors / fetch refused, 2 invalid usage or configuration, 3 daemon not running.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import msgspec

from llmdb.schema import BuildReport
from llmdbd import inputs
from llmdbd.config import Config, load
from llmdbd.engine import BuiltCatalog, collector_paused
from llmdbd.engine.report import render
from llmdbd.errors import BuildError, ConfigError, DaemonError, FetchError
from llmdbd.output import lock
from llmdbd.sources.upstreams import DEFAULT_PRECEDENCE, UPSTREAMS, kind_of

DAEMON_EXTRA = "llmdbd {command} needs the daemon's dependencies: pip install 'llmdbd[daemon]' ({error})"


def entry() -> NoReturn:
    """The `llmdbd` command: `main`, then exit with its code.

    obstore's Tokio worker threads can abort the interpreter's finalization (SIGABRT in about one exit in five
    after a failed request, measured here; the same bug as lancedb/lancedb#4175). Once it has been used, the
    process exits with the command's code without finalizing; everything the daemon writes is fsynced first."""
    code = main()
    if "obstore" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if hasattr(args, "upstream"):  # build, check: each --upstream [NAME=]FILE by upstream name
        try:
            args.upstream = _by_upstream(args.upstream, "--upstream")
            args.upstream_origin = _by_upstream(args.upstream_origin, "--upstream-origin")
        except ValueError as exc:
            print(f"llmdbd: {exc}", file=sys.stderr)
            return 2
    try:
        return int(args.run(args))
    except BrokenPipeError:  # `llmdbd check | head`: the reader left; say nothing more
        sys.stderr.close()
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmdbd", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--version", action="version", version=f"llmdbd {importlib.metadata.version('llmdbd')}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    for name, run, text in (
        ("build", _build, "build the catalog and write or publish a snapshot; the report goes to stdout"),
        ("check", _check, "build without publishing and print the report; exit 1 on errors"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        names = ", ".join(UPSTREAMS)
        p.add_argument(
            "--upstream",
            metavar="[NAME=]FILE",
            action="append",
            default=[],
            help=f"an upstream catalog file, NAME one of {names} (FILE alone: {DEFAULT_PRECEDENCE[0]}); repeatable",
        )
        p.add_argument(
            "--upstream-origin",
            metavar="[NAME=]URL",
            action="append",
            default=[],
            help="record this as an upstream's file (its URL); repeatable",
        )
        for kind in UPSTREAMS.values():
            if kind.legacy_table is not None and kind.legacy_table != "upstream":
                flag = f"--{kind.legacy_table}"
                p.add_argument(flag, metavar="FILE", help=f"the same as --upstream {kind.name}=FILE")
                p.add_argument(f"{flag}-origin", metavar="URL", help=f"the same as --upstream-origin {kind.name}=URL")
        p.add_argument("--patches", metavar="DIR", action="append", default=[], help="patch directory (repeatable)")
        p.add_argument("--overrides", metavar="FILE", help="Python module defining `overrides`")
        p.add_argument("--config", metavar="FILE", help="also use a daemon config: its patch dirs, overrides, rules")
        p.add_argument("--json", action="store_true", help="print the build report as JSON")
        p.add_argument(
            "--as-of",
            metavar="DATE",
            type=_day,
            help="read dated prices (genai-prices' start dates) as of this day, not today (a reproducible build)",
        )
        if name == "check":
            p.add_argument(
                "--conflicts",
                action="store_true",
                help="list where the upstreams disagree on a price or limit (the report goes to stderr)",
            )
            p.add_argument(
                "--quality",
                action="store_true",
                help="count the contradictions the rules resolved and list those left, by class",
            )
        if name == "build":
            where = p.add_mutually_exclusive_group(required=True)
            where.add_argument("--output", metavar="FILE", help="write the snapshot to this file")
            where.add_argument("--state-dir", metavar="DIR", help="publish into this state directory")
            p.add_argument("--keep", type=int, default=5, help="snapshots retained in the state directory")
        p.set_defaults(run=run)
    for name, run, text in (
        ("run", _run, "run the daemon: publish, then watch patches and poll upstream"),
        ("pull", _pull, "fetch upstream into the state directory's cache"),
        ("status", _status, "print the daemon's status; exit 3 when it is not running"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("--config", metavar="FILE", help="TOML configuration (default /etc/llmdb/llmdbd.toml)")
        p.add_argument("--state-dir", metavar="DIR", help="the state directory (default /var/lib/llmdb)")
        if name == "status":
            p.add_argument("--json", action="store_true", help="print the status as JSON, with the daemon's live state")
        p.set_defaults(run=run)
    text = (
        "which hosts serve the leader's catalog: its manifest at URL against each host's status; exit 1 if any does not"
    )
    p = sub.add_parser("fleet-status", help=text, description=text)
    p.add_argument("url", help="where the leader publishes (s3://bucket/prefix/, https://..., file:///dir/)")
    p.add_argument("hosts", nargs="+", metavar="STATUS", help="a host's status.json, or its state directory")
    p.add_argument("--config", metavar="FILE", help="a daemon config for its [s3] settings")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(run=_fleet_status)
    text = "replay dated upstream files (models.dev or LiteLLM) into a history, oldest first"
    history = sub.add_parser("history", help="the history database: import dated upstream files")
    history_sub = history.add_subparsers(required=True, metavar="ACTION")
    p = history_sub.add_parser("import", help=text, description=text)
    p.add_argument("files", nargs="+", metavar="FILE@DATE", help="an upstream file and the day it describes")
    p.add_argument("--origin", action="append", default=[], metavar="FILE=ORIGIN", help="record FILE as ORIGIN")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--state-dir", metavar="DIR", help="the daemon's state directory (its history.sqlite3)")
    where.add_argument("--output", metavar="FILE", help="a history file to ship (one file, no write-ahead log)")
    p.set_defaults(run=_history_import)
    return parser


def _flags(args: argparse.Namespace) -> dict[str, str | None]:
    return {"state_dir": args.state_dir}


def _config(args: argparse.Namespace) -> Config | None:
    """The configuration `--config`/`--state-dir` name, or None after saying why it is refused."""
    try:
        return load(args.config, dict(os.environ), _flags(args))[0]
    except ConfigError as exc:
        print(f"llmdbd: {exc}", file=sys.stderr)
        return None


def _missing_extra(command: str, exc: ImportError) -> int:
    print("llmdbd: " + DAEMON_EXTRA.format(command=command, error=exc), file=sys.stderr)
    return 2


def _run(args: argparse.Namespace) -> int:
    try:
        from llmdbd.daemon.run import main as run_daemon
    except ImportError as exc:
        return _missing_extra("run", exc)
    return run_daemon(args.config, _flags(args))


def _pull(args: argparse.Namespace) -> int:
    try:
        import anyio

        from llmdbd import fetch
        from llmdbd.daemon import upstream
    except ImportError as exc:
        return _missing_extra("pull", exc)
    config = _config(args)
    if config is None:
        return 2
    try:
        held = lock.hold(config.state_dir, "llmdbd pull")
    except (DaemonError, OSError) as exc:
        print(f"llmdbd: {exc}", file=sys.stderr)
        return 2

    async def pull_all() -> int:
        failed = 0
        try:
            for name in config.upstreams:
                state, settings = upstream.UpstreamState(config.state_dir, name), config.settings(name)
                state.load_cache()
                try:
                    meta = await upstream.poll(state, settings)  # what the daemon's poller does, once
                except FetchError as exc:
                    print(f"llmdbd: {name}: {exc}", file=sys.stderr)
                    failed += 1
                    continue
                print(
                    f"{name}: not modified: {settings.url}"
                    if meta is None
                    else f"{name}: cached {meta.models} models from {meta.url}"
                )
                for held in state.held:
                    print(f"{name}: held back: {held}")
        finally:
            await fetch.aclose()
        return 1 if failed else 0

    with held:
        try:
            return anyio.run(pull_all)
        except OSError as exc:
            print(f"llmdbd: cannot write the cache in {config.state_dir}: {exc.strerror or exc}", file=sys.stderr)
            return 2


def _status(args: argparse.Namespace) -> int:
    from llmdb.contract import STATUS_FILE, decode_status, live, status_lines

    config = _config(args)
    if config is None:
        return 2
    path = Path(config.state_dir) / STATUS_FILE
    try:
        status = live(decode_status(path.read_bytes()))
    except FileNotFoundError:
        print(f"llmdbd: no daemon status in {config.state_dir} (no daemon has run there)", file=sys.stderr)
        return 3
    except (OSError, ValueError) as exc:
        print(f"llmdbd: {path}: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return 3
    if args.json:
        print(msgspec.json.format(msgspec.json.encode(status), indent=2).decode())
    else:
        print("\n".join(status_lines(status)))
    return 3 if status.down else 0


def _fleet_status(args: argparse.Namespace) -> int:
    try:
        import anyio

        from llmdb.contract import STATUS_FILE, Status, decode_status
        from llmdbd.fleet import manifest
        from llmdbd.fleet.stores import open_store
        from llmdbd.fleet.survey import survey
    except ImportError as exc:
        return _missing_extra("fleet-status", exc)
    try:
        config = load(args.config, dict(os.environ))[0] if args.config else Config()
        store = open_store(args.url, config.s3, config.follow)
        fetched = anyio.run(store.get, manifest.MANIFEST)
        assert fetched is not None
        leader = manifest.decode(fetched.data, args.url + manifest.MANIFEST)
    except (DaemonError, ValueError) as exc:
        print(f"llmdbd: {exc}", file=sys.stderr)
        return 3
    hosts: dict[str, Status | str] = {}
    for host in args.hosts:
        path = Path(host) / STATUS_FILE if Path(host).is_dir() else Path(host)
        try:
            hosts[host] = decode_status(path.read_bytes())
        except OSError as exc:
            hosts[host] = f"no status file ({exc.strerror or exc})"
        except ValueError as exc:
            hosts[host] = str(exc)
    rows = survey(leader, hosts)
    if args.json:
        print(msgspec.json.encode({"leader": leader, "hosts": rows}).decode())
    else:
        print(
            f"leader {leader.leader}: epoch {leader.epoch}, content hash {leader.content_hash},"
            f" published {leader.published_at}"
        )
        for row in rows:
            mark = "ok " if row["converged"] else "OFF"
            serves = str(row.get("content_hash") or "-")[:16]
            detail = f"serves {serves}"
            if row.get("stale_s") is not None:
                detail += f", checked {row['stale_s']} s ago"
            if row.get("lag_s") is not None:
                detail += f", lag {row['lag_s']} s"
            print(f"{mark} {row['host']}: {detail}" + (f" ({row['problem']})" if row.get("problem") else ""))
        converged = sum(row["converged"] for row in rows)
        print(f"{converged} of {len(rows)} host(s) serve the leader's catalog")
    return 0 if all(row["converged"] for row in rows) else 1


def _built(args: argparse.Namespace) -> BuiltCatalog | None:
    """Build from `--config`'s inputs (none without it: no patch directory, the packaged catalog) and the
    command line's, printing the report; None when it failed."""
    try:
        config = load(args.config, {})[0] if args.config else Config(patch_dirs=[])
    except ConfigError as exc:
        print(f"llmdbd: {exc}", file=sys.stderr)
        return None
    files: dict[str, str | None] = dict(args.upstream)
    origins: dict[str, str | None] = dict(args.upstream_origin)
    for kind in UPSTREAMS.values():  # --litellm FILE, as before --upstream litellm=FILE
        if kind.legacy_table is not None and kind.legacy_table != "upstream":
            attribute = kind.legacy_table.replace("-", "_")
            files.setdefault(kind.name, getattr(args, attribute))
            origins.setdefault(kind.name, getattr(args, attribute + "_origin"))
    config = config.with_inputs(files, args.patches, args.overrides)
    try:
        with collector_paused():
            catalog = inputs.catalog(config, args.config, origins=origins, as_of=args.as_of)
    except BuildError as exc:
        _print_report(args, exc.report)
        print(f"llmdbd: {exc}", file=sys.stderr)
        return None
    _print_report(args, catalog.report)
    return catalog


def _held(args: argparse.Namespace) -> list[str]:
    """With `--config`: the prices its daemon holds back (its status file), each with how to release it."""
    from llmdb.contract import read_status

    try:
        status = read_status(load(args.config, {})[0].state_dir) if args.config else None
    except ConfigError:
        return []  # `_built` said why
    return [
        f"held back by the daemon ({name}): {held}; a patch setting {held.field} = {held.after!r} confirms it"
        for name, up in (status.upstream.items() if status is not None else ())
        for held in up.held
    ]


def _day(text: str) -> str:
    """An ISO day (`2026-12-07`), for `--as-of`."""
    from datetime import date

    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day (2026-12-07)") from None


def _by_upstream(given: list[str], flag: str) -> dict[str, str | None]:
    """`NAME=VALUE` (or `VALUE` alone, for the first upstream of the default precedence) by upstream name;
    `ValueError` for an upstream named twice."""
    out: dict[str, str | None] = {}
    for value in given:
        name, sep, rest = value.partition("=")
        if sep and name not in UPSTREAMS and re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
            raise ValueError(
                f"{flag} {value}: no upstream {name!r} (known: {', '.join(UPSTREAMS)}); a file whose name holds "
                f"'=' needs a directory part ({flag} ./{value})"
            )
        if not sep or name not in UPSTREAMS:
            name, rest = DEFAULT_PRECEDENCE[0], value
        if name in out:
            raise ValueError(f"{flag} names {name} twice")
        out[name] = rest
    return out


def _print_report(args: argparse.Namespace, report: BuildReport) -> None:
    out = sys.stderr if getattr(args, "conflicts", False) or getattr(args, "quality", False) else sys.stdout
    print(msgspec.json.encode(report).decode() if args.json else render(report), file=out)


def _build(args: argparse.Namespace) -> int:
    from llmdbd.output.publish import publish, write_snapshot

    try:  # into a state directory: held before the build, so a live one is refused before any work
        held = None if args.output else lock.hold(args.state_dir, "llmdbd build")
    except (DaemonError, OSError) as exc:
        print(f"llmdbd: {exc}", file=sys.stderr)
        return 2
    try:
        catalog = _built(args)
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
    except OSError as exc:
        print(f"llmdbd: cannot write {args.output or args.state_dir}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    finally:
        if held is not None:
            held.release()
    print(
        f"wrote {result.path}: epoch {result.epoch}, {result.size} bytes, content hash {result.content_hash}",
        file=sys.stderr,
    )
    return 0


def _history_import(args: argparse.Namespace) -> int:
    import sqlite3
    from datetime import UTC, datetime
    from pathlib import Path

    from llmdb import HistoryError, contract
    from llmdbd.output import history

    origins = dict(o.split("=", 1) for o in args.origin if "=" in o)
    files = []
    for item in args.files:
        name, _, day = item.rpartition("@")
        try:
            at = datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()
        except ValueError:
            print(f"llmdbd: {item}: expected FILE@DATE with an ISO date (api.json@2026-07-01)", file=sys.stderr)
            return 2
        path = Path(name)
        try:
            kind = kind_of(path)
        except (OSError, ValueError) as exc:
            print(f"llmdbd: {path}: {exc}", file=sys.stderr)
            return 2
        files.append(history.Dated(kind, path, at, origins.get(name)))
    newest, given = max((f.at for f in files), default=0.0), list(files)
    for dated in given:
        dates = UPSTREAMS[dated.upstream].dates
        if dates is None:
            continue
        # each day its prices change, after the file's own and before the next file of that upstream (up to the
        # newest file's day): a catalog built with its prices as of that day
        later = [f.at for f in given if f.upstream == dated.upstream and f.at > dated.at]
        until = min([*later, newest + 1])
        for day in dates(UPSTREAMS[dated.upstream].load_path(dated.path)):
            when = datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()
            if dated.at < when < until and when <= newest:
                files.append(history.Dated(dated.upstream, dated.path, when, dated.origin))
    target = Path(args.output) if args.output else Path(args.state_dir) / contract.HISTORY_FILE
    try:  # into a state directory (created if new; --output's too): not while a daemon writes its history there
        target.parent.mkdir(parents=True, exist_ok=True)
        state = target.parent if args.state_dir or (target.parent / contract.LOCK_FILE).exists() else None
        held = lock.hold(state, "llmdbd history import") if state is not None else None
    except (DaemonError, OSError) as exc:
        print(f"llmdbd: {exc}", file=sys.stderr)
        return 2
    # --output: a new history, built beside the file and put in its place once complete
    store = history.History(target.with_name(f".{target.name}.import-{os.getpid()}") if args.output else target)

    def build_at(latest: dict[str, history.Dated]) -> BuiltCatalog:
        """The catalog of the upstream files as they were on one day: nothing but them."""
        files: dict[str, str | None] = {name: str(f.path) for name, f in latest.items()}
        day = datetime.fromtimestamp(max(f.at for f in latest.values()), UTC).date().isoformat()
        with collector_paused():
            return inputs.catalog(
                Config(patch_dirs=[]).with_inputs(files, [], None),
                origins={n: f.origin for n, f in latest.items()},
                as_of=day,
            )

    try:
        count = history.replay(store, files, build_at)
        store.close()
        if args.output:
            history.packaged_copy(store.path)
            os.replace(store.path, target)
    except (ValueError, BuildError, HistoryError) as exc:
        print(f"llmdbd: {exc}", file=sys.stderr)
        return 1
    except (sqlite3.Error, OSError) as exc:
        print(f"llmdbd: cannot write {target}: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
        if held is not None:
            held.release()
        if args.output:
            for suffix in ("", "-wal", "-shm", "-journal"):  # what is left of a failed import
                store.path.with_name(store.path.name + suffix).unlink(missing_ok=True)
    print(f"recorded {count} catalog(s) into {target}", file=sys.stderr)
    return 0


def _check(args: argparse.Namespace) -> int:
    catalog = _built(args)
    for line in _held(args):
        print(line, file=sys.stderr if args.json else sys.stdout)
    if catalog is None:
        return 1
    out: dict[str, Any] = {}  # with --json: one object on stdout
    if args.conflicts:
        from llmdbd.engine import conflicts

        found = conflicts.conflicts(catalog)
        said = conflicts.render(found, catalog)
        if args.json:  # the list on stdout; what was compared (or that nothing could be) on stderr
            print(said.splitlines()[0], file=sys.stderr)
            out["conflicts"] = found
        else:
            print(said)
    if args.quality:
        from llmdbd.engine import consistency

        resolved, left = consistency.resolved(catalog.report), consistency.quality(catalog.models)
        if args.json:
            out |= {"resolved": resolved, "left": left}
        else:
            print(consistency.render(resolved, left))
    if out:  # `--conflicts --json` alone: the list, as before
        print(msgspec.json.encode(out if args.quality else out["conflicts"]).decode())
    return 1 if catalog.report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
