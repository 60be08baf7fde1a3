"""What an operator sees of the real daemon: flags that survive reloads, every build issue in status and log,
what a publish changed, rejections that say what is kept, a status that knows when the daemon stopped, errors
that name their real origin, and one-line errors instead of tracebacks."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from daemon_helpers import Daemon, client_read, patch, price, status_json, wait_for

pytestmark = pytest.mark.slow

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def llmdbd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmdbd", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def builds(d: Daemon) -> list[dict[str, Any]]:
    return [e for e in d.events() if e["event"] in ("catalog_published", "catalog_unchanged")]


def test_command_line_state_dir_keeps_its_precedence_at_every_reload(tmp_path: Path) -> None:
    flag_state = tmp_path / "from-flag"
    d = Daemon(tmp_path, args=("--state-dir", str(flag_state)))
    d.status_dir = flag_state
    d.start()
    try:
        d.signal(signal.SIGHUP)
        wait_for(lambda: any(e["trigger"] == "sighup" for e in builds(d)), "rebuild after SIGHUP")
        d.write_config('[deny]\nopenai = ["gpt-4o"]\n')  # an edit of the config file reloads too
        wait_for(lambda: any("config_changed" in e["trigger"] for e in builds(d)), "rebuild after config edit")
        assert d.events("config_rejected") == []
        assert not (d.state / "catalog.llmdb").exists()  # the file's state_dir never took over
        assert (flag_state / "catalog.llmdb").exists()
    finally:
        d.stop()


def test_every_build_issue_reaches_status_and_the_publish_event(daemon: Daemon) -> None:
    unused = daemon.patches / "20-unused.json"
    unused.write_text(json.dumps({"exclude": ["nosuch:model-*"]}))
    status = wait_for(lambda: (s := status_json(daemon.state)) and s["build_issue_count"] and s, "issue in status")
    (issue,) = [i for i in status["build_issues"] if i["stage"] == "filters"]
    assert issue["severity"] == "warning" and issue["file"] == str(unused) and issue["field"] == "exclude"
    assert "matches no model" in issue["message"]
    event = wait_for(lambda: [e for e in builds(daemon) if e["warnings"]], "event with the warning")[-1]
    assert any(i.get("file") == str(unused) and "matches no model" in i["message"] for i in event["issues"])


def test_a_typo_in_a_patch_adds_no_model_and_the_publish_event_says_so(daemon: Daemon) -> None:
    typo = daemon.patches / "30-typo.json"
    typo.write_text(json.dumps({"models": [{"spec": "openai:gpt-404", "cost": {"input": 1.0}}]}))
    event = wait_for(
        lambda: [e for e in builds(daemon) if any("gpt-404" in i["message"] for i in e["issues"])], "the warning"
    )[-1]
    (issue,) = [i for i in event["issues"] if "gpt-404" in i["message"]]
    assert issue["severity"] == "warning" and issue["file"] == str(typo) and '"new": true' in issue["message"]
    seen = client_read(daemon.state / "catalog.llmdb", "openai:gpt-404")
    assert seen["epoch"] >= 1 and seen["model"] is None  # no such model was made


def test_a_publish_names_the_changed_files_and_summarizes_the_change(daemon: Daemon) -> None:
    target = daemon.patches / "10-prices.json"
    target.write_text(patch(7.0))
    wait_for(lambda: price(daemon.state / "catalog.llmdb") == 7.0, "patch")
    # The event is logged right after the publish a client can already see: wait for it too.
    event = wait_for(lambda: daemon.events("catalog_published")[1:], "the patch's publish event")[-1]
    assert event["trigger"] == "patches_changed"
    assert event["changes"]["sources"] == [f"{target} (added)"]
    assert (event["changes"]["added"], event["changes"]["removed"], event["changes"]["changed"]) == (0, 0, 1)
    assert event["changes"]["first"] == ["~openai:gpt-4o"]
    target.write_text(json.dumps({"exclude": ["openai:gpt-4o-mini"]}))
    wait_for(lambda: price(daemon.state / "catalog.llmdb") == 2.5, "patch replaced")
    event = wait_for(lambda: daemon.events("catalog_published")[2:], "the replacement's publish event")[-1]
    assert event["changes"]["sources"] == [f"{target} (changed)"]
    assert event["changes"]["removed"] == 1 and "-openai:gpt-4o-mini" in event["changes"]["first"]


def test_a_rejection_says_what_is_kept_and_the_next_build_counts_its_errors(daemon: Daemon) -> None:
    target = daemon.patches / "10-prices.json"
    target.write_text(patch(7.0))
    wait_for(lambda: price(daemon.state / "catalog.llmdb") == 7.0, "patch")
    target.write_text('{"models": [{"spec": "openai:gpt-4o", "cost": {"input": -1}}]}')
    (rejected,) = wait_for(lambda: daemon.events("patch_rejected"), "rejection")
    assert rejected["keeping"].startswith("last accepted version (sha256:")
    after = wait_for(lambda: [e for e in builds(daemon) if e["errors"]], "build counting the rejection")[-1]
    assert after["event"] == "catalog_unchanged" and after["errors"] >= 2
    assert any(i.get("field") == "cost.input" for i in after["issues"])
    assert all("fragment ignored" not in i["message"] for i in after["issues"])
    assert any(i["message"].startswith("file not applied") for i in after["issues"])
    (never := daemon.patches / "30-never.json").write_text("{ nope")
    wait_for(lambda: len(daemon.events("patch_rejected")) == 2, "second rejection")
    assert daemon.events("patch_rejected")[1] == {
        **daemon.events("patch_rejected")[1],
        "file": str(never),
        "keeping": "nothing: never accepted",
    }


def test_a_stopped_daemon_does_not_look_alive(daemon: Daemon) -> None:
    running = llmdbd("status", "--config", str(daemon.config))
    assert running.returncode == 0 and "running, pid" in running.stdout
    status = status_json(daemon.state)
    assert status is not None and status["state"] == "running"
    assert all(ISO.match(status[k]) for k in ("started_at", "updated_at", "built_at"))
    daemon.stop()
    stopped = llmdbd("status", "--config", str(daemon.config))
    assert stopped.returncode == 3 and "not running (stopped at 20" in stopped.stdout
    status = status_json(daemon.state)
    assert status is not None and status["state"] == "stopped" and ISO.match(status["stopped_at"])


def test_a_killed_daemon_does_not_look_alive(daemon: Daemon) -> None:
    assert daemon.proc is not None
    daemon.proc.kill()
    daemon.proc.wait()
    out = llmdbd("status", "--config", str(daemon.config))
    assert out.returncode == 3 and f"not running (process {daemon.proc.pid} is gone" in out.stdout
    assert out.stdout.count("not running") == 1, out.stdout
    as_json = llmdbd("status", "--config", str(daemon.config), "--json")
    status = json.loads(as_json.stdout)  # what a monitoring script reads: the live state, as the plain form says
    assert as_json.returncode == 3 and status["state"] == "gone" and "is gone" in status["down"]
    assert status["pid"] == daemon.proc.pid and status["epoch"] == 1


def test_status_prints_each_rejected_files_errors_once(daemon: Daemon) -> None:
    bad = daemon.patches / "bad.json"
    bad.write_text(json.dumps({"models": [{"spec": "openai:gpt-4o", "cost": {"input": -1}, "bogus": 1}]}))
    wait_for(lambda: (s := status_json(daemon.state)) and s["rejected_files"], "the rejection in status")
    out = llmdbd("status", "--config", str(daemon.config))
    assert out.returncode == 0, out.stderr
    rejected = [line for line in out.stdout.splitlines() if str(bad) in line]
    assert len(rejected) == 1 and rejected[0].startswith(f"rejected: {bad}"), out.stdout
    assert "cost.input" in rejected[0] and "bogus" in rejected[0], rejected


def test_status_with_no_daemon_ever_exits_3(tmp_path: Path) -> None:
    out = llmdbd("status", "--state-dir", str(tmp_path))
    assert out.returncode == 3 and "no daemon status" in out.stderr


@pytest.mark.parametrize(
    ("env", "args", "origin"),
    [
        ({"LLMDBD_KEEP": "abc"}, (), "environment variable LLMDBD_KEEP: Expected `int`"),
        ({"LLMDBD_UPSTREAM_MAX_SHRINK": "2"}, (), "environment variable LLMDBD_UPSTREAM_MAX_SHRINK: must be in"),
        ({"LLMDBD_PATCH_DIRZ": "/x"}, (), "environment variable LLMDBD_PATCH_DIRZ: unknown setting"),
    ],
)
def test_config_errors_name_their_real_origin(
    tmp_path: Path, env: dict[str, str], args: tuple[str, ...], origin: str
) -> None:
    missing = tmp_path / "none.toml"  # the default path, which does not exist
    out = llmdbd("run", "--state-dir", str(tmp_path / "s"), *args, env={**env, "LLMDBD_CONFIG": str(missing)})
    assert out.returncode == 2 and origin in out.stderr
    assert str(missing) not in out.stderr and "Traceback" not in out.stderr


def test_a_config_file_error_names_the_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("keep = 0\n")
    out = llmdbd("run", "--config", str(config), "--state-dir", str(tmp_path / "s"))
    assert out.returncode == 2 and f"{config}: key 'keep': must be at least 1" in out.stderr


def test_starting_names_a_config_file_only_if_one_was_read(tmp_path: Path) -> None:
    d = Daemon(tmp_path)
    d.config.unlink()
    d.env["LLMDBD_CONFIG"] = str(d.config)  # not there: defaults, plus the state dir below
    d.env["LLMDBD_STATE_DIR"], d.env["LLMDBD_PATCH_DIRS"] = str(d.state), str(d.patches)
    d.env["LLMDBD_LOG_FORMAT"] = "json"
    d.command, d.args = [sys.executable, "-m", "llmdbd", "run"], ("--state-dir", str(d.state))
    try:
        d.start()
        (starting,) = d.events("starting")
        assert starting["config"] is None and starting["state_dir"] == str(d.state)
    finally:
        d.stop()
    d.write_config("")
    d.command = [*d.command, "--config", str(d.config)]
    d.start()
    try:
        assert d.events("starting")[-1]["config"] == str(d.config)
    finally:
        d.stop()


def test_an_unusable_state_dir_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    out = llmdbd("run", "--state-dir", "/proc/nope", env={"LLMDBD_CONFIG": str(tmp_path / "none.toml")})
    assert out.returncode == 2 and "Traceback" not in out.stderr
    events = [json.loads(line) for line in out.stderr.strip().splitlines()]  # every line is one JSON event
    assert [e["event"] for e in events] == ["starting", "state_dir_unusable"]
    assert events[1]["state_dir"] == "/proc/nope" and events[1]["error"]


def test_without_the_daemon_extra_run_says_how_to_install_it(tmp_path: Path) -> None:
    # `None` in sys.modules makes `import anyio` fail exactly as it does where the package is not installed.
    code = "import sys; sys.modules['anyio'] = None; from llmdbd.cli import main; sys.exit(main(sys.argv[1:]))"
    for command in ("run", "pull"):
        out = subprocess.run(
            [sys.executable, "-c", code, command, "--state-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 2 and "pip install 'llmdbd[daemon]'" in out.stderr, out.stderr
        assert "Traceback" not in out.stderr


def test_a_restart_with_nothing_new_still_says_what_is_served(tmp_path: Path) -> None:
    d = Daemon(tmp_path).start()
    d.stop()
    d.start()
    try:
        status = status_json(d.state)
        assert status is not None and status["epoch"] == 1 and status["content_hash"]
        second = wait_for(lambda: builds(d)[1:], "the second start's build event")[-1]
        assert second["event"] == "catalog_unchanged" and second["epoch"] == 1
    finally:
        d.stop()


def test_a_missing_upstream_file_or_bad_url_is_an_error_not_a_crash(tmp_path: Path) -> None:
    bad_url = llmdbd("pull", "--state-dir", str(tmp_path), env={"LLMDBD_UPSTREAM_URL": "https://[::1/api.json"})
    assert bad_url.returncode == 2 and "LLMDBD_UPSTREAM_URL" in bad_url.stderr and "Traceback" not in bad_url.stderr
    d = Daemon(tmp_path, config=f'[upstream]\nfile = "{tmp_path / "gone.json"}"\n')
    d.start()
    try:
        (failed,) = wait_for(lambda: d.events("build_failed"), "build_failed event")
        assert "gone.json" in failed["error"] and d.proc is not None and d.proc.poll() is None
    finally:
        d.stop()
