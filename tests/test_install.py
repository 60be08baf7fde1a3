"""docs/install.md: its wheel steps, run as written into a temporary directory in place of /opt/llmdb, give a venv
whose `llmdb` and `llmdbd` work; and the doc, the systemd unit and the daemon's defaults agree on every path.

The install fetches setuptools (to build) and the `daemon` extra's packages from the package index, as the doc does.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

from daemon_helpers import Daemon, patch, wait_for

from llmdb import contract
from llmdbd import config

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "install.md"
UNIT = ROOT / "systemd" / "llmdbd.service"
VENV = "/opt/llmdb"

# The doc's wheel steps, as the doc spells them; the test runs them with /opt/llmdb, `sudo` and `python3` replaced.
BUILD = "python3 -m pip wheel --no-deps -w dist ."
MAKE_VENV = f"sudo python3 -m venv {VENV}"
FIND_WHEEL = "wheel=$(ls dist/llmdbd-*-py3-none-any.whl)"
INSTALL = f'sudo {VENV}/bin/pip install "${{wheel}}[daemon]"'
WHEEL_STEPS = (BUILD, MAKE_VENV, FIND_WHEEL, INSTALL)
# What a checkout holds that is not the project: left out of the copy the wheel is built from.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "state", "patches.d"
)


def _commands(markdown: str) -> list[str]:
    """The shell commands of a Markdown text's ```sh blocks, one a line, trailing comments dropped."""
    blocks = re.findall(r"^```sh\n(.*?)^```", markdown, flags=re.S | re.M)
    lines = (re.sub(r"\s+#\s.*$", "", line).strip() for block in blocks for line in block.splitlines())
    return [line for line in lines if line]


def _unit() -> dict[str, list[str]]:
    """The unit's directives: each key with its values in order (comments left out)."""
    directives: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";")):
            key, value = line.split("=", 1)
            directives.setdefault(key.strip(), []).append(value.strip())
    return directives


def _exec_start() -> list[str]:
    (exec_start,) = _unit()["ExecStart"]
    return shlex.split(exec_start)


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without anything that would point a process at the checkout or at another catalog."""
    drop = ("PYTHONPATH", "VIRTUAL_ENV", contract.SNAPSHOT_ENV, contract.STATE_DIR_ENV, "LLMDB_PROFILE")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("LLMDBD_")}
    return {**env, **extra}


def _run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(argv, capture_output=True, text=True, env=_clean_env(**env), timeout=120, cwd="/")
    assert out.returncode == 0, out.stdout + out.stderr
    return out


def _follow_the_doc(tmp_path: Path) -> tuple[Path, Path]:
    """Run the doc's wheel steps in a copy of the checkout, into `tmp_path/opt-llmdb`: (the wheel, the venv)."""
    checkout, venv = tmp_path / "llmdb", tmp_path / "opt-llmdb"
    shutil.copytree(ROOT, checkout, ignore=NOT_SOURCE)
    script = ["set -euo pipefail"]
    for step in WHEEL_STEPS:
        line = step.removeprefix("sudo ").replace(VENV, shlex.quote(str(venv)))
        script.append(re.sub(r"^python3 ", shlex.quote(sys.executable) + " ", line))
    out = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=checkout, capture_output=True, text=True, env=_clean_env(), timeout=300
    )
    assert out.returncode == 0, out.stdout + out.stderr
    (wheel,) = (checkout / "dist").glob("llmdbd-*-py3-none-any.whl")
    return wheel, venv


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json(argv: list[str], **env: str) -> Any:
    return json.loads(_run(argv, **env).stdout)


def test_the_docs_wheel_steps_install_a_working_client_and_daemon(tmp_path: Path) -> None:
    commands = _commands(DOC.read_text())
    assert all(step in commands for step in WHEEL_STEPS)
    order = [commands.index(step) for step in WHEEL_STEPS]
    assert order == sorted(order)  # the doc's order
    wheel, venv = _follow_the_doc(tmp_path)
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert wheel.name == f"llmdbd-{version}-py3-none-any.whl"

    # The wheel: the license, the packaged catalog and history, byte for byte the checkout's.
    with zipfile.ZipFile(wheel) as whl:
        license_text = whl.read(f"llmdbd-{version}.dist-info/licenses/LICENSE")
        metadata = whl.read(f"llmdbd-{version}.dist-info/METADATA").decode()
        catalog, history = whl.read("llmdb/catalog.llmdb"), whl.read(f"llmdb/{contract.HISTORY_FILE}")
    assert license_text == (ROOT / "LICENSE").read_bytes()
    assert b"MIT License" in license_text and b"Copyright (c) 2026 the llmdb authors" in license_text
    assert "License-Expression: MIT" in metadata.splitlines() and "License-File: LICENSE" in metadata.splitlines()
    assert _sha256(catalog) == _sha256((ROOT / "client" / "llmdb" / "catalog.llmdb").read_bytes())
    assert _sha256(history) == _sha256((ROOT / "client" / "llmdb" / contract.HISTORY_FILE).read_bytes())

    # No daemon: the installed client reads the catalog packaged in the venv.
    llmdb, no_daemon = str(venv / "bin" / "llmdb"), str(tmp_path / "no-daemon")
    model = _json([llmdb, "get", "openai:gpt-4o", "--json"], LLMDB_STATE_DIR=no_daemon)
    assert (model["spec"], model["limits"]["context"]) == ("openai:gpt-4o", 128000)
    packaged = Path(_json([llmdb, "info", "--json"], LLMDB_STATE_DIR=no_daemon)["path"])
    assert packaged.name == "catalog.llmdb" and packaged.is_relative_to(venv)

    # The unit's ExecStart, pointed at the venv and a config that keeps state and patches in tmp_path.
    binary, *args = _exec_start()
    daemon = Daemon(tmp_path)
    daemon.command = [binary.replace(VENV, str(venv)), *args[:-1], str(daemon.config)]
    daemon.env = _clean_env()
    daemon.start()
    try:
        state = str(daemon.state)
        assert _json([llmdb, "info", "--json"], LLMDB_STATE_DIR=state)["path"] == str(daemon.state / "catalog.llmdb")
        started = wait_for(lambda: daemon.events("catalog_published"), "the first publish's log event")[0]
        assert started["changes"]["sources"] == [f"{packaged} (added)"]  # the venv's catalog, not the checkout's
        (daemon.patches / "10-prices.json").write_text(patch(2.0))
        wait_for(
            lambda: _json([llmdb, "get", "openai:gpt-4o", "--json"], LLMDB_STATE_DIR=state)["cost"]["input"] == 2.0,
            "the installed daemon to publish the patch",
        )
    finally:
        stopped = daemon.stop()  # SIGTERM: the daemon stops cleanly, exit 0
    assert stopped == 0, daemon.log.read_text()
    status = subprocess.run(
        [str(venv / "bin" / "llmdbd"), "status", "--json", "--state-dir", state],
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=60,
    )
    assert status.returncode == 3 and json.loads(status.stdout)["state"] == "stopped", status.stdout + status.stderr


def test_the_doc_installs_what_the_unit_runs() -> None:
    commands = _commands(DOC.read_text())
    binary, subcommand, flag, config_file = _exec_start()
    assert (subcommand, flag) == ("run", "--config")
    # ExecStart's binary is the venv the doc makes and installs into.
    assert binary == f"{VENV}/bin/llmdbd"
    assert MAKE_VENV in commands and INSTALL in commands
    assert f"sudo {VENV}/bin/pip install '/path/to/llmdb[daemon]'" in commands  # the checkout variant, same venv
    # The config file the unit names exists after the doc's steps, where the unit's directories and the daemon's
    # defaults expect it; so does the patch directory.
    unit = _unit()
    assert config_file == str(config.DEFAULT_PATH) == f"/etc/{unit['ConfigurationDirectory'][0]}/llmdbd.toml"
    assert f"sudo install -m 0644 /dev/null {config_file}" in commands
    (patch_dir,) = config.Config().patch_dirs
    assert f"sudo install -d -m 0755 {patch_dir}" in commands
    # The state directory systemd makes is the one the daemon writes and the client reads by default.
    assert f"/var/lib/{unit['StateDirectory'][0]}" == config.Config().state_dir == str(contract.STATE_DIR)
    assert f"sudo install -m 0644 systemd/{UNIT.name} /etc/systemd/system/{UNIT.name}" in commands
    assert f"sudo systemd-analyze verify /etc/systemd/system/{UNIT.name}" in commands


def test_daemon_md_and_the_units_header_point_at_install_md_with_its_commands() -> None:
    install = set(_commands(DOC.read_text()))
    daemon_md = (ROOT / "docs" / "daemon.md").read_text()
    assert "docs/install.md" in daemon_md
    section = daemon_md[daemon_md.index("### Install on Debian 12") :]
    steps = [line for line in _commands(section) if line.startswith(("sudo", "python3", "wheel="))]
    assert BUILD in steps and INSTALL in steps
    assert [step for step in steps if step not in install] == []
    header = [line.removeprefix("#").strip() for line in UNIT.read_text().splitlines() if line.startswith("#")]
    assert any("docs/install.md" in line for line in header)
    assert BUILD in [re.sub(r"\s+#\s.*$", "", line) for line in header]


def test_no_doc_installs_llmdbd_from_the_package_index() -> None:
    """The index has no `llmdbd`: a fresh install is the repository's wheel or checkout (adding an extra to an
    installed `llmdbd`, `pip install 'llmdbd[fleet]'`, is fine)."""
    fresh = re.compile(r"pip install (-U |--upgrade )?['\"]?llmdbd(\[daemon[^\]]*\])?['\"]?(?=[\s`]|$)", re.M)
    for path in [ROOT / "README.md", UNIT, *sorted((ROOT / "docs").glob("*.md"))]:
        assert not fresh.findall(path.read_text()), path
