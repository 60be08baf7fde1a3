"""An upstream update that moves a price more than tenfold is held back (issue 25, item 5): the model keeps its
last price, the change is reported, and a patch or a second upstream releases it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from catalogs import API, LITELLM
from daemon_helpers import Daemon, client_read, status_json, wait_for
from upstream_server import Upstream

from llmdbd.config import Config
from llmdbd.daemon.rebuild import Rebuilder
from llmdbd.daemon.upstream import Cached
from llmdbd.engine import Layer, holds, prepare
from llmdbd.sources import litellm, modelsdev, patches

SPEC = "openai:gpt-4o"


def api_with(price: float, model: str = "gpt-4o") -> bytes:
    """models.dev's real catalog with one OpenAI model's input price changed."""
    data = json.loads(API.read_bytes())
    data["openai"]["models"][model]["cost"]["input"] = price
    return json.dumps(data).encode()


@pytest.fixture(scope="module")
def served() -> Layer:
    return prepare(modelsdev.load_bytes(API.read_bytes(), file="api.json"))


def layer_of(body: bytes) -> Layer:
    return prepare(modelsdev.load_bytes(body, file="api.json"))


def test_a_twentyfold_jump_is_held_and_a_fivefold_move_is_not(served: Layer) -> None:
    assert holds.prices(served)[SPEC, "cost.input"] == 2.5
    (held,) = holds.jumps(served, layer_of(api_with(50.0)), [], "2026-12-07T00:00:00Z")
    assert (held.model, held.field, held.before, held.after) == (SPEC, "cost.input", 2.5, 50.0)
    assert holds.jumps(served, layer_of(api_with(12.5)), [], "now") == []
    down = holds.jumps(served, layer_of(api_with(0.2)), [], "now")  # 12.5x cheaper: held too
    assert [(h.before, h.after) for h in down] == [(2.5, 0.2)]


def test_a_hold_keeps_its_date_until_the_update_changes_and_goes_when_the_price_returns(served: Layer) -> None:
    jumped = layer_of(api_with(50.0))
    (first,) = holds.jumps(served, jumped, [], "day 1")
    (again,) = holds.jumps(jumped, jumped, [first], "day 2")  # the same update polled again
    assert again.since == "day 1" and again.before == 2.5
    (moved,) = holds.jumps(jumped, layer_of(api_with(40.0)), [first], "day 3")  # still far from what is served
    assert (moved.before, moved.after, moved.since) == (2.5, 40.0, "day 3")
    assert holds.jumps(jumped, served, [first], "day 4") == []  # back at the served price


def test_a_held_layer_serves_the_last_price_and_says_why(served: Layer) -> None:
    jumped = layer_of(api_with(50.0))
    (held,) = holds.jumps(served, jumped, [], "2026-12-07T00:00:00Z")
    shown = holds.apply(jumped, [held])
    assert holds.prices(shown)[SPEC, "cost.input"] == 2.5
    assert holds.prices(jumped)[SPEC, "cost.input"] == 50.0  # the fetched layer itself is untouched
    (warning,) = [i for i in shown.issues if i.stage == "hold"]
    assert (warning.source, warning.provider, warning.model, warning.field) == (
        "models.dev",
        "openai",
        "gpt-4o",
        "cost.input",
    )
    assert "held at 2.5" in warning.message and "50.0" in warning.message and "20x" in warning.message


def test_a_patch_or_a_second_upstream_giving_the_new_value_releases_it(served: Layer, tmp_path: Path) -> None:
    (held,) = holds.jumps(served, layer_of(api_with(50.0)), [], "now")
    confirming = tmp_path / "confirm.json"
    confirming.write_text(json.dumps({"models": [{"spec": SPEC, "cost": {"input": 50.0}}]}))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"models": [{"spec": SPEC, "cost": {"input": 49.0}}]}))
    patch_layers = [prepare(patches.load_file(p)) for p in (other, confirming)]
    assert holds.released([held], "models.dev", patch_layers[:1]) == {}
    assert holds.released([held], "models.dev", patch_layers) == {(SPEC, "cost.input"): f"{confirming} gives 50.0 too"}
    data = json.loads(LITELLM.read_bytes())
    data["gpt-4o"]["input_cost_per_token"] = 5e-05
    agreeing = prepare(litellm.load_bytes(json.dumps(data).encode(), file="litellm.json"))
    assert holds.released([held], "models.dev", [agreeing]) == {(SPEC, "cost.input"): "litellm gives 50.0 too"}


def test_a_rebuilder_releases_a_hold_a_second_upstream_confirms(tmp_path: Path) -> None:
    """In-process: a models.dev update jumps gpt-4o 20x while LiteLLM's file (changed the same day) gives the
    new price: the next build releases the hold and serves it; without the agreeing file it stays held."""
    data = json.loads(LITELLM.read_bytes())
    data["gpt-4o"]["input_cost_per_token"] = 5e-05
    agreeing = tmp_path / "litellm.json"
    agreeing.write_text(json.dumps(data))
    config = Config(state_dir=str(tmp_path / "state"), patch_dirs=[], upstreams=["models.dev", "litellm"])
    config = config.with_inputs({"litellm": str(LITELLM)}, [], None)
    rebuilder = Rebuilder(config, None)
    rebuilder.prepare()
    state = rebuilder.upstreams["models.dev"]
    for body in (API.read_bytes(), api_with(50.0)):
        layer = layer_of(body)
        meta = Cached(url="http://127.0.0.1/api.json", sha256=str(hash(body)))
        state.accepted(body, meta, layer)
        rebuilder.rebuild("upstream_changed")
    assert [h.after for h in state.held] == [50.0]
    assert rebuilder._last is not None and rebuilder._last.models[SPEC].cost.input == 2.5  # type: ignore[union-attr]
    rebuilder.reconfigure(config.with_inputs({"litellm": str(agreeing)}, [], None), None)
    event, fields, _ = rebuilder.rebuild("litellm_changed")
    assert event == "catalog_published"
    assert fields["released"] == [f"models.dev: {SPEC} cost.input 50.0: litellm gives 50.0 too"]
    assert state.held == [] and rebuilder._last.models[SPEC].cost.input == 50.0  # type: ignore[union-attr]
    cached = json.loads((tmp_path / "state" / "upstream" / "meta.json").read_text())
    assert cached.get("held", []) == []  # forgotten: the hold does not come back after a restart


def llmdbd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "llmdbd", *args], capture_output=True, text=True, timeout=120)


def held_of(state: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (
        ((status_json(state) or {}).get("upstream") or {}).get("models.dev", {}).get("held", [])
    )
    return found


@pytest.mark.slow
def test_a_real_daemon_holds_a_jump_across_polls_and_a_restart_and_a_patch_releases_it(tmp_path: Path) -> None:
    with Upstream() as server:
        server.body = API.read_bytes()
        config = f'[upstreams."models.dev"]\nurl = "{server.url}"\npoll_interval = 0.3\n'
        d = Daemon(tmp_path, config).start()
        catalog = d.state / "catalog.llmdb"
        try:
            wait_for(lambda: d.events("upstream_fetched"), "the first fetch")
            wait_for(lambda: client_read(catalog, "openai:gpt-4o")["model"]["cost"]["input"] == 2.5, "gpt-4o served")
            server.body = api_with(50.0)
            held = wait_for(lambda: held_of(d.state), "the jump held in status.json")
            assert [(h["model"], h["field"], h["before"], h["after"]) for h in held] == [
                (SPEC, "cost.input", 2.5, 50.0)
            ]
            # nothing else changed: the catalog is the one already served, and its event names the hold
            wait_for(lambda: any("held" in e for e in d.events("catalog_unchanged")), "a build naming the hold")
            (event,) = [e for e in d.events("catalog_unchanged") if "held" in e]
            assert event["held"] == [
                f"models.dev: {SPEC} cost.input: held at 2.5, the update says 50.0 (20x), since " + held[0]["since"]
            ]
            assert client_read(catalog, SPEC)["model"]["cost"]["input"] == 2.5  # the last price keeps serving
            said = llmdbd("check", "--config", str(d.config))
            assert f"held back by the daemon (models.dev): {SPEC} cost.input: held at 2.5" in said.stdout
            assert "a patch setting cost.input = 50.0 confirms it" in said.stdout
            status = llmdbd("status", "--config", str(d.config))
            assert f"held back (models.dev): {SPEC} cost.input" in status.stdout

            d.stop()  # a restart holds it too: the hold is kept with the cached body
            d.start()
            wait_for(lambda: held_of(d.state), "the hold after a restart")
            assert client_read(catalog, SPEC)["model"]["cost"]["input"] == 2.5

            confirm = d.patches / "confirm.json"
            confirm.write_text(json.dumps({"models": [{"spec": SPEC, "cost": {"input": 50.0}}]}))
            wait_for(lambda: any("released" in e for e in d.events("catalog_published")), "the hold released")
            assert held_of(d.state) == []
            builds = len(d.events("catalog_published") + d.events("catalog_unchanged"))
            confirm.unlink()  # confirmed once is enough: models.dev's new price now serves on its own
            wait_for(lambda: len(d.events("catalog_published") + d.events("catalog_unchanged")) > builds, "a rebuild")
            assert held_of(d.state) == []
            wait_for(lambda: client_read(catalog, SPEC)["model"]["cost"]["input"] == 50.0, "the new price served")
        finally:
            d.stop()


def test_two_upstreams_that_moved_the_same_way_release_each_other(served: Layer, tmp_path: Path) -> None:
    """A real price change both upstreams pick up is held in both: each gives the other's new value, so neither
    waits for a patch."""
    from llmdb.contract import HeldPrice
    from llmdbd.daemon.upstream import UpstreamState, release_holds

    states = {name: UpstreamState(tmp_path, name) for name in ("models.dev", "litellm")}
    for state in states.values():
        held = [HeldPrice(model=SPEC, field="cost.input", before=2.5, after=50.0, since="2026-12-07T00:00:00Z")]
        state.meta = Cached(url="http://127.0.0.1/x", sha256="00", held=held)
    lone = UpstreamState(tmp_path, "openrouter")
    lone.meta = Cached(
        url="http://127.0.0.1/y",
        sha256="01",
        held=[HeldPrice(model=SPEC, field="cost.input", before=2.5, after=40.0, since="2026-12-07T00:00:00Z")],
    )
    states["openrouter"] = lone
    released = release_holds(states, {name: served for name in states}, [])
    assert sorted(released) == [
        f"litellm: {SPEC} cost.input 50.0: models.dev gives 50.0 too",
        f"models.dev: {SPEC} cost.input 50.0: litellm gives 50.0 too",
    ]
    assert states["models.dev"].held == [] and states["litellm"].held == []
    assert [h.after for h in lone.held] == [40.0]  # another new value: still held
    on_disk = json.loads((tmp_path / "upstream" / "meta.json").read_text())
    assert on_disk.get("held", []) == []
