"""The upstream catalogs by name: the one registry the configuration, the command line, the daemon's fetching
and its cache read. Adding an upstream is a source module plus one entry here."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from llmdbd.engine.layer import Layer
from llmdbd.sources import genai_prices, litellm, modelsdev, openrouter


class UpstreamKind(NamedTuple):
    """How to read one upstream catalog, where its settings are, and where the daemon caches its last body."""

    name: str
    legacy_table: str | None
    """The configuration table it had before `[upstreams.<name>]` (`[upstream]`, `[litellm]`), still read with a
    deprecation warning, with its `LLMDBD_<TABLE>_*` variables and `llmdbd build --<table> FILE`."""
    load_path: Callable[..., Layer]
    load_bytes: Callable[..., Layer]
    default_url: str
    cache_body: str
    cache_meta: str
    looks_like: Callable[[bytes], bool]
    """Whether the first 64 KiB of a file are this catalog's (`kind_of`)."""
    place: Callable[[Layer, Sequence[Layer]], Layer] | None = None
    """For a source of prices for others' models: its layer placed against the other upstream layers (with no
    other upstream, it is left out and the build starts from the packaged catalog)."""
    dates: Callable[[Layer], list[str]] | None = None
    """For a source of dated prices: the days its prices change (ISO). Its `load_path` then takes `as_of`, and
    `llmdbd history import` records a catalog on each of those days."""


UPSTREAMS: dict[str, UpstreamKind] = {
    kind.name: kind
    for kind in (
        UpstreamKind(
            modelsdev.NAME,
            "upstream",
            modelsdev.load_path,
            modelsdev.load_bytes,
            modelsdev.DEFAULT_URL,
            "api.json",
            "meta.json",
            modelsdev.looks_like,
        ),
        UpstreamKind(
            litellm.NAME,
            "litellm",
            litellm.load_path,
            litellm.load_bytes,
            litellm.DEFAULT_URL,
            "litellm.json",
            "litellm.meta.json",
            litellm.looks_like,
        ),
        UpstreamKind(
            openrouter.NAME,
            None,
            openrouter.load_path,
            openrouter.load_bytes,
            openrouter.DEFAULT_URL,
            "openrouter.json",
            "openrouter.meta.json",
            openrouter.looks_like,
        ),
        UpstreamKind(
            genai_prices.NAME,
            None,
            genai_prices.load_path,
            genai_prices.load_bytes,
            genai_prices.DEFAULT_URL,
            "genai-prices.json",
            "genai-prices.meta.json",
            genai_prices.looks_like,
            genai_prices.place,
            genai_prices.dates,
        ),
    )
}
"""Every upstream by name (`models.dev`, `litellm`, `openrouter`, `genai-prices`): the names `[upstreams]` in the
config takes."""
DEFAULT_PRECEDENCE = (modelsdev.NAME, litellm.NAME, openrouter.NAME, genai_prices.NAME)
"""Highest first: models.dev's values win, LiteLLM fills what it lacks and adds the models it lacks, OpenRouter
then (its own provider's models and what the others lack of them), genai-prices last (prices and context windows
of the others' models). An upstream with no data (no file, nothing fetched) is left out of a build."""


def table_of(name: str) -> str:
    """The configuration table of upstream `name`, as TOML spells it: `upstreams.litellm`,
    `upstreams."models.dev"`."""
    return f"upstreams.{name}" if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'upstreams."{name}"'


def env_of(name: str) -> str:
    """The part of `LLMDBD_UPSTREAMS_<NAME>_<KEY>` variables that names upstream `name` (`MODELS_DEV`)."""
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def kind_of(path: Path) -> str:
    """Which upstream a catalog file is (the most specific match first); `ValueError` when none recognizes it."""
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if not head.lstrip().startswith((b"{", b"[")):
        raise ValueError("not JSON: not an upstream catalog (" + ", ".join(UPSTREAMS) + ")")
    for kind in sorted(UPSTREAMS.values(), key=lambda k: k.name == modelsdev.NAME):
        if kind.looks_like(head):
            return kind.name
    raise ValueError("not a catalog of any known upstream (" + ", ".join(UPSTREAMS) + ")")
