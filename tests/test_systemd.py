"""The systemd unit is valid (`systemd-analyze verify`) and sandboxes the daemon as docs/daemon.md says."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

UNIT = Path(__file__).resolve().parents[1] / "systemd" / "llmdbd.service"


def test_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: install Debian's systemd package (.ci/run does)"
    llmdbd = Path(sys.executable).parent / "llmdbd"
    assert llmdbd.exists()
    unit = tmp_path / "llmdbd.service"
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/llmdbd", str(llmdbd)))
    out = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "llmdbd.service" not in out.stderr, out.stderr


def test_unit_declares_the_sandbox() -> None:
    lines = {line.strip() for line in UNIT.read_text().splitlines()}
    for directive in (
        "Type=notify",
        "Restart=on-failure",
        "DynamicUser=yes",
        "StateDirectory=llmdb",
        "StateDirectoryMode=0755",
        "ConfigurationDirectory=llmdb",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        "SystemCallFilter=@system-service",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ):
        assert directive in lines, directive
    assert any(line.startswith("WatchdogSec=") for line in lines)
