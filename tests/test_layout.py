"""The layout holds: llmdbd reaches the client only through `llmdb.contract` and public `llmdb` names, the
client never imports the daemon, and no daemon class grows past what one reader can hold."""

from __future__ import annotations

import ast
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imports(package: Path) -> list[tuple[str, str]]:
    """(file, imported module) for every import in the package's files."""
    out = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                out += [(str(path.relative_to(ROOT)), f"{node.module}.{a.name}") for a in node.names]
            elif isinstance(node, ast.Import):
                out += [(str(path.relative_to(ROOT)), a.name) for a in node.names]
    return out


def test_the_daemon_uses_only_the_contract_and_public_client_names() -> None:
    found = imports(ROOT / "llmdbd")
    crossing = [(f, m) for f, m in found if m.startswith("llmdb.") or m == "llmdb"]
    assert len(crossing) > 10
    private = [(f, m) for f, m in crossing if any(part.startswith("_") for part in m.split("."))]
    assert private == [], private
    modules = {m.split(".")[1] for _, m in crossing if m.count(".") >= 2}
    assert modules <= {"contract", "schema"}, modules


def test_the_client_never_imports_the_daemon() -> None:
    found = imports(ROOT / "client" / "llmdb")
    assert [m for _, m in found if m.startswith("llmdbd")] == []


def test_no_daemon_class_is_over_150_lines() -> None:
    sizes = {}
    for path in (ROOT / "llmdbd" / "daemon").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                sizes[f"{path.name}:{node.name}"] = (node.end_lineno or 0) - node.lineno + 1
    assert len(sizes) >= 4
    assert max(sizes.values()) <= 150, sizes


def test_every_package_is_in_the_wheel() -> None:
    """pyproject's explicit package list names every package directory (a subpackage left out is missing from
    the wheel while the editable install, which maps whole directories, still finds it)."""
    import tomllib

    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    roots = {name: ROOT / path for name, path in setup["package-dir"].items()}
    found = {
        ".".join([name, *init.parent.relative_to(root).parts])
        for name, root in roots.items()
        for init in root.rglob("__init__.py")
    }
    assert len(found) >= 8 and set(setup["packages"]) == found


DAEMON_LAYERS = (
    ("llmdbd.errors",),
    ("llmdbd.engine", "llmdbd.sources"),
    ("llmdbd.config", "llmdbd.inputs", "llmdbd.output", "llmdbd.fetch"),
    ("llmdbd.fleet",),
    ("llmdbd.daemon",),
    ("llmdbd.cli", "llmdbd.__main__"),
)
"""llmdbd's layers, lowest first: a module imports its own layer and those below, never one above."""


def _layer(module: str) -> int | None:
    for rank, prefixes in enumerate(DAEMON_LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    return None


def test_no_import_inside_the_daemon_climbs_back_up() -> None:
    found = imports(ROOT / "llmdbd")
    ranked = 0
    upward = []
    for file, imported in found:
        module = file.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        own, theirs = _layer(module), _layer(imported)
        assert own is not None or module == "llmdbd", f"{file} is in no layer of DAEMON_LAYERS"
        if own is not None and theirs is not None:
            ranked += 1
            if theirs > own:
                upward.append((file, imported))
    assert ranked > 100
    assert upward == [], upward


def test_no_client_class_is_over_200_lines_and_no_client_module_over_400() -> None:
    """The client every application imports stays in pieces a reader can hold."""
    classes, modules = {}, {}
    for path in (ROOT / "client" / "llmdb").rglob("*.py"):
        text = path.read_text()
        modules[str(path.relative_to(ROOT))] = len(text.splitlines())
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                classes[f"{path.name}:{node.name}"] = (node.end_lineno or 0) - node.lineno + 1
    assert len(modules) >= 20 and len(classes) >= 20
    assert {name: n for name, n in classes.items() if n > 200} == {}
    assert {name: n for name, n in modules.items() if n > 400} == {}


FIRST_GET = """
import json, sys
import llmdb
llmdb.default_catalog().snapshot  # opened: the trace starts at the name
calls, stacks = [], []
def profile(frame, event, arg):
    if event == "call" and frame.f_globals.get("__name__", "").startswith("llmdb"):
        calls.append(frame.f_globals["__name__"])
    elif event == "c_call" and getattr(arg, "__name__", "") == "decode":
        stack, f = [], frame
        while f is not None:
            stack.append(f.f_globals.get("__name__", ""))
            f = f.f_back
        stacks.append([m for m in reversed(stack) if m.startswith("llmdb")])
sys.setprofile(profile)
llmdb.get("openai:gpt-4o")
sys.setprofile(None)
print(json.dumps({"calls": calls, "stacks": stacks, "loaded": sorted(sys.modules)}))
"""


def test_a_first_get_passes_through_each_module_once() -> None:
    """From the name to the record's decode, in a fresh process: the catalog, the current mapping, the record
    (probed in the lookup section, read through the mapping), each module once; the contract's status and
    history modules are not loaded, nor pathlib."""
    import json
    import subprocess
    import sys
    import sysconfig

    # -S: no site, so no editable install's finder (which imports pathlib at start-up); the package and
    # msgspec come from the checkout and this environment's site-packages.
    where = [str(ROOT / "client"), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(where)}
    done = subprocess.run([sys.executable, "-S", "-c", FIRST_GET], capture_output=True, text=True, check=True, env=env)
    trace = json.loads(done.stdout)
    assert len(trace["stacks"]) == 1  # one record decoded
    stack = [m for i, m in enumerate(trace["stacks"][0]) if i == 0 or trace["stacks"][0][i - 1] != m]
    assert stack == ["llmdb._catalog", "llmdb._snapshot", "llmdb._mapping"]
    runs = [m for i, m in enumerate(trace["calls"]) if i == 0 or trace["calls"][i - 1] != m]
    # the decoded model, then its status as of today (`_calendar`: a date reached reads deprecated or retired)
    assert runs == ["llmdb._catalog", "llmdb._freshness", "llmdb._snapshot", "llmdb._lookup", "llmdb._snapshot",
                    "llmdb._mapping", "llmdb._calendar"], runs  # fmt: skip
    assert "llmdb.contract.state" not in trace["loaded"] and "llmdb.contract.history" not in trace["loaded"]
    assert "pathlib" not in trace["loaded"]
