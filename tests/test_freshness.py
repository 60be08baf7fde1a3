"""Freshness off the lookup path: a per-process checker thread swaps in new files within `CHECK_SECONDS`,
`get` is a dict hit that never serves a model of an older file once the swap is done, and the thread is
restarted in a forked child."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import msgspec
from catalogs import make_catalog

import llmdb
from llmdb import _freshness
from llmdb.schema import Capabilities, Tools
from llmdbd.engine import BuiltCatalog
from llmdbd.engine.records import Records
from llmdbd.output.publish import publish

DEADLINE = 5.0


def wait_for(condition: object, deadline: float = DEADLINE) -> bool:
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.005)
    return False


def test_get_answers_from_the_new_file_once_the_checker_swapped_it(tmp_path: Path) -> None:
    publish(make_catalog(1.0), tmp_path)
    catalog = llmdb.Catalog(tmp_path / "catalog.llmdb")
    assert catalog.get("t:m").cost.input == 1.0  # type: ignore[union-attr]
    assert catalog.get("t:m") is catalog.get("t:m")  # a dict hit: the same object
    publish(make_catalog(2.0), tmp_path)
    assert wait_for(lambda: catalog.snapshot.epoch == 2)
    assert catalog.get("t:m").cost.input == 2.0  # type: ignore[union-attr]  # the old answer was dropped
    assert catalog.info()["epoch"] == 2


def test_refresh_serves_a_new_file_at_once(tmp_path: Path) -> None:
    publish(make_catalog(1.0), tmp_path)
    catalog = llmdb.Catalog(tmp_path / "catalog.llmdb")
    assert catalog.get("t:m").cost.input == 1.0  # type: ignore[union-attr]
    publish(make_catalog(3.0), tmp_path)
    catalog.refresh()
    assert catalog.get("t:m").cost.input == 3.0  # type: ignore[union-attr]


def test_names_and_misses_are_resolved_again_after_a_swap(tmp_path: Path) -> None:
    publish(make_catalog(1.0), tmp_path)
    catalog = llmdb.Catalog(tmp_path / "catalog.llmdb")
    assert catalog.get("m@t").spec == "t:m"  # another spec form, remembered under that name
    assert "m@t" in catalog.by_name
    publish(make_catalog(2.0), tmp_path)
    catalog.refresh()
    assert "m@t" not in catalog.by_name  # forgotten with the old mapping
    assert catalog.get("m@t").cost.input == 2.0  # type: ignore[union-attr]


def test_an_idle_process_wakes_only_for_the_fallback_check(tmp_path: Path) -> None:
    """With inotify (Linux), the checker sleeps until a file lands: idle, it wakes once per fallback period."""
    publish(make_catalog(1.0), tmp_path)
    catalog = llmdb.Catalog(tmp_path / "catalog.llmdb")
    catalog.get("t:m")
    time.sleep(0.1)  # let the checker take up the new directory
    before = _freshness.checker_wakeups
    time.sleep(2.5)
    woke = _freshness.checker_wakeups - before
    assert 1 <= woke <= 2.5 / _freshness.FALLBACK_CHECK_SECONDS + 2, woke


def test_the_checker_ends_when_no_catalog_is_left(tmp_path: Path) -> None:
    publish(make_catalog(1.0), tmp_path)
    code = f"""
import gc, time, llmdb
from llmdb import _freshness
c = llmdb.Catalog({str(tmp_path / "catalog.llmdb")!r})
c.get("t:m")
assert _freshness._checker is not None and _freshness._checker.is_alive()
del c
gc.collect()
deadline = time.monotonic() + 5 * _freshness.FALLBACK_CHECK_SECONDS
while _freshness._checker is not None and time.monotonic() < deadline:
    time.sleep(0.05)
assert _freshness._checker is None, "still running"
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_forked_child_gets_its_own_checker(tmp_path: Path) -> None:
    publish(make_catalog(1.0), tmp_path)
    catalog = llmdb.Catalog(tmp_path / "catalog.llmdb")
    assert catalog.get("t:m").cost.input == 1.0  # type: ignore[union-attr]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: threads do not survive a fork; its checker must see the next publish by itself
        try:
            os.close(write)
            os.read(read, 1)  # the parent has published
            ok = wait_for(lambda: catalog.get("t:m").cost.input == 4.0)  # type: ignore[union-attr]
            os._exit(0 if ok else 1)
        except BaseException:
            os._exit(2)
    os.close(read)
    publish(make_catalog(4.0), tmp_path)
    os.write(write, b"x")
    os.close(write)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_module_level_get_is_a_dict_lookup() -> None:
    assert type(llmdb.get).__name__ == "builtin_function_or_method"  # the C-level __getitem__ of a dict
    model = llmdb.get("openai:gpt-4o")
    assert llmdb.get("openai:gpt-4o") is model


def test_models_answers_are_remembered_per_file_and_renewed_after_a_swap(tmp_path: Path) -> None:
    publish(make_catalog(1.0, extra_models=2), tmp_path)
    catalog = llmdb.Catalog(tmp_path / "catalog.llmdb")
    first = catalog.models(max_input_cost=5.0)
    again = catalog.models(max_input_cost=5.0)
    assert [m.spec for m in first] == ["t:m"] and again == first
    assert again is first  # a read-only ModelList: the answer itself is remembered
    assert not hasattr(again, "clear") and not hasattr(again, "append")
    assert [m.spec for m in catalog.models(provider="t")] == ["t:m", "t:x0", "t:x1"]
    publish(make_catalog(9.0, extra_models=3), tmp_path)
    catalog.refresh()
    assert catalog.models(max_input_cost=5.0) == []  # t:m now costs 9: the remembered answer was dropped
    assert [m.spec for m in first] == ["t:m"]  # an answer already given still reads from its own file
    assert [m.spec for m in catalog.models(provider="t")] == ["t:m", "t:x0", "t:x1", "t:x2"]


def _with_tools(catalog: BuiltCatalog, enabled: bool) -> BuiltCatalog:
    """`catalog` with `t:m`'s tool calling switched on or off."""
    models = dict(catalog.models)
    models["t:m"] = msgspec.structs.replace(models["t:m"], capabilities=Capabilities(tools=Tools(enabled=enabled)))
    return msgspec.structs.replace(
        catalog, models=models, records=Records()(models.values()), content_hash=f"{int(enabled):064x}"
    )


def test_supports_answers_are_forgotten_with_the_mapping(tmp_path: Path) -> None:
    """`supports` is an lru_cache of answers: a new file must clear it, for the module-level binding too."""
    publish(_with_tools(make_catalog(1.0), False), tmp_path)
    catalog = llmdb.Catalog(tmp_path / "catalog.llmdb")
    supports = catalog.supports  # what `from llmdb import supports` keeps
    assert not supports("t:m", "tools")
    assert not supports("t:m", "tools")  # now a cache hit
    publish(_with_tools(make_catalog(1.0), True), tmp_path)
    assert wait_for(lambda: catalog.snapshot.epoch == 2)
    assert supports("t:m", "tools")
    assert catalog.supports("t:m", "tools", "chat")
