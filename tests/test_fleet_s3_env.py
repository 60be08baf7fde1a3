"""`s3://` set up the way the AWS CLI and SDKs are: the standard `AWS_*` variables in the daemon's environment,
`[s3]` keys winning over them, and a setting that cannot work reported as what to set. Real `llmdbd run` daemons
and `llmdbd fleet-status` processes against moto's S3-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from daemon_helpers import Daemon, wait_for
from object_store import BUCKET, S3Server, free_port

from llmdbd.fleet import manifest

PREFIX = "env/"
URL = f"s3://{BUCKET}/{PREFIX}"


def aws_env(endpoint: str, **changes: str | None) -> dict[str, str]:
    """The variables an operator sets for an S3-compatible store on plain http; a change of None unsets one."""
    env: dict[str, str | None] = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ALLOW_HTTP": "true",
        **changes,
    }
    return {name: value for name, value in env.items() if value is not None}


def only_aws(env: dict[str, str]) -> dict[str, str]:
    """This process's environment with its own `AWS_*` variables replaced by `env`."""
    return {name: value for name, value in os.environ.items() if not name.startswith("AWS_")} | env


def daemon(root: Path, config: str, env: dict[str, str]) -> Daemon:
    root.mkdir()
    d = Daemon(root, config, env=env)
    d.env = only_aws(env)
    return d


def leader_config(extra: str = "") -> str:
    return f'[publish]\ntargets = ["{URL}"]\nretry_max = 2\n' + extra


def follower_config(extra: str = "") -> str:
    return f'[follow]\nurl = "{URL}"\npoll_interval = 0.2\n' + extra


def status(d: Daemon) -> dict[str, Any]:
    """The daemon's `status.json` as written (empty while it is being replaced)."""
    try:
        found: dict[str, Any] = json.loads((d.status_dir / "status.json").read_bytes())
    except (OSError, ValueError):
        return {}
    return found


def upload(d: Daemon) -> dict[str, Any]:
    found: dict[str, Any] = (status(d).get("publish") or [{}])[0]
    return found


def follow(d: Daemon) -> dict[str, Any]:
    found: dict[str, Any] = status(d).get("follow") or {}
    return found


def fleet_status(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmdbd", "fleet-status", URL, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=only_aws(env),
    )


def test_a_leader_and_a_follower_set_up_only_by_the_aws_environment(tmp_path: Path, s3: S3Server) -> None:
    env = aws_env(s3.endpoint)
    leader = daemon(tmp_path / "leader", leader_config(), env).start()
    follower = daemon(tmp_path / "follower", follower_config(), env)
    try:
        uploaded = wait_for(lambda: upload(leader).get("content_hash"), "the leader's upload")
        assert uploaded == status(leader)["content_hash"]
        assert manifest.decode(s3.get(PREFIX + manifest.MANIFEST), "manifest").content_hash == uploaded
        follower.start()
        wait_for(lambda: follow(follower).get("serves_leader"), "the follower serving the leader's catalog")
        assert status(follower)["content_hash"] == uploaded
        assert follow(follower)["leader"]["content_hash"] == uploaded
    finally:
        follower.stop()
        leader.stop()


def test_s3_keys_in_the_config_win_over_the_environment(tmp_path: Path, s3: S3Server) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    env = aws_env(nowhere, AWS_ENDPOINT_URL_S3=nowhere, AWS_ALLOW_HTTP="false", AWS_REGION="eu-west-3")
    s3_keys = f'[s3]\nendpoint = "{s3.endpoint}"\nregion = "us-east-1"\nallow_http = true\n'
    leader = daemon(tmp_path / "leader", leader_config(s3_keys), env).start()
    try:
        uploaded = wait_for(lambda: upload(leader).get("content_hash"), "the leader's upload to the config's endpoint")
        assert "error" not in upload(leader)
        assert manifest.decode(s3.get(PREFIX + manifest.MANIFEST), "manifest").content_hash == uploaded
        # a reader given the same config and environment reads the manifest from the config's endpoint too
        out = fleet_status(env, str(leader.state), "--config", str(leader.config), "--json")
        assert out.returncode == 0, out.stdout + out.stderr
        assert f'"content_hash":"{uploaded}"' in out.stdout
    finally:
        leader.stop()


def test_a_plain_http_endpoint_without_allow_http_says_what_to_set_at_every_attempt(
    tmp_path: Path, s3: S3Server
) -> None:
    env = aws_env(s3.endpoint, AWS_ALLOW_HTTP=None)
    leader = daemon(tmp_path / "leader", leader_config(), env).start()
    follower = daemon(tmp_path / "follower", follower_config(), env).start()
    hint = "set s3.allow_http = true (or AWS_ALLOW_HTTP=true)"
    expected = f"endpoint {s3.endpoint} (from AWS_ENDPOINT_URL) is plain http: {hint}"
    try:
        error = wait_for(lambda: upload(leader).get("error"), "the leader reporting its failed upload")
        assert error == f"{URL}: {expected}"
        assert "builder error" not in leader.log.read_text()
        failed = wait_for(
            lambda: len(leader.events("upload_failed")) >= 2 and leader.events("upload_failed"), "retries"
        )
        assert [event["error"] for event in failed[:2]] == [error, error]
        assert status(leader)["content_hash"]  # local publishing goes on

        error = wait_for(lambda: follow(follower).get("error"), "the follower reporting the store")
        assert error == f"{URL}: {expected}"
        logged = wait_for(lambda: follower.events("leader_unreachable"), "the follower logging its failed poll")
        assert logged[0]["error"] == error
    finally:
        follower.stop()
        leader.stop()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"AWS_ALLOW_HTTP": None}, "is plain http: set s3.allow_http = true (or AWS_ALLOW_HTTP=true)"),
        ({"AWS_ALLOW_HTTP": "maybe"}, "AWS_ALLOW_HTTP='maybe' is not true or false"),
        ({"AWS_SECRET_ACCESS_KEY": None}, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both"),
        ({"AWS_ENDPOINT_URL": "127.0.0.1:9000"}, "endpoint '127.0.0.1:9000' (from AWS_ENDPOINT_URL) is not an"),
        ({"AWS_ENDPOINT_URL_S3": "http://[::1"}, "(from AWS_ENDPOINT_URL_S3) is not an http(s)://host URL"),
        # no keys at all: obstore asks the instance metadata endpoint (here a closed port on 127.0.0.1) for a role
        (
            {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_METADATA_ENDPOINT": "closed"},
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN",
        ),
    ],
)
def test_an_s3_setting_that_cannot_work_is_one_line_naming_what_to_set(
    tmp_path: Path, changes: dict[str, str | None], message: str
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    changes = {name: closed if value == "closed" else value for name, value in changes.items()}
    out = fleet_status(aws_env(closed, **changes), str(tmp_path / "status.json"))
    assert out.returncode == 3, out.stdout + out.stderr
    assert message in out.stderr and URL in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_allow_http_false_in_the_config_wins_over_aws_allow_http(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    config = tmp_path / "llmdbd.toml"
    config.write_text("[s3]\nallow_http = false\n")
    out = fleet_status(aws_env(closed), str(tmp_path / "status.json"), "--config", str(config))
    assert out.returncode == 3 and "is plain http: set s3.allow_http = true" in out.stderr, out.stderr
