"""The inputs of a build, assembled in one place for `llmdbd build`/`check` and the daemon: the upstream
catalogs in their configured precedence, then patch files, config overrides and code overrides, lowest
precedence first."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from llmdbd.engine import Layer, Rules
from llmdbd.engine.profiles import ProfileInput
from llmdbd.sources import litellm, modelsdev, overrides, packaged, patches


class UpstreamKind(NamedTuple):
    """How to read one upstream catalog, and where the daemon caches its last good body."""

    load_path: Callable[..., Layer]
    load_bytes: Callable[..., Layer]
    default_url: str
    cache_body: str
    cache_meta: str


UPSTREAMS: dict[str, UpstreamKind] = {
    modelsdev.NAME: UpstreamKind(
        modelsdev.load_path, modelsdev.load_bytes, modelsdev.DEFAULT_URL, "api.json", "meta.json"
    ),
    litellm.NAME: UpstreamKind(
        litellm.load_path, litellm.load_bytes, litellm.DEFAULT_URL, "litellm.json", "litellm.meta.json"
    ),
}
"""Every upstream by name (`models.dev`, `litellm`): the names `upstreams = [...]` in the config accepts."""
DEFAULT_PRECEDENCE = (modelsdev.NAME, litellm.NAME)
"""Highest first: models.dev's values win, LiteLLM fills what it lacks and adds the models it lacks."""


def upstream_layers(
    files: Mapping[str, str | Path | None],
    precedence: Sequence[str] = DEFAULT_PRECEDENCE,
    origins: Mapping[str, str | None] | None = None,
) -> list[Layer]:
    """The upstream files given (name → file), lowest precedence first; the packaged catalog when none is.

    `origins` records a name's file as something else (e.g. the URL it came from)."""
    origins = origins or {}
    loaded = {
        name: UPSTREAMS[name].load_path(file, origin=origins.get(name))
        for name, file in files.items()
        if file and name in precedence
    }
    return stack(loaded, precedence) or [packaged.load()]


def kind_of(path: Path) -> str:
    """Which upstream a catalog file is: LiteLLM's map has a `sample_spec` entry, models.dev's does not.
    `ValueError` when the file is not a JSON object."""
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if not head.lstrip().startswith(b"{"):
        raise ValueError("not a JSON object: neither a models.dev nor a LiteLLM catalog")
    return litellm.NAME if b'"sample_spec"' in head or b'"litellm_provider"' in head else modelsdev.NAME


def stack(found: Mapping[str, Layer | None], precedence: Sequence[str]) -> list[Layer]:
    """The upstream layers that exist, lowest precedence first (`precedence` lists the highest first)."""
    return [layer for name in reversed(precedence) if (layer := found.get(name)) is not None]


def profiles(
    definitions: Mapping[str, dict[str, Any]], layers: Sequence[Layer] = (), config_file: str | None = None
) -> dict[str, ProfileInput]:
    """What each profile's build adds to the base's layers: the profiles the input snapshots carry (a leader's),
    then `definitions` (the config's `[profiles]`), which replace same-named ones."""
    carried = {name: d for layer in layers for name, d in layer.profiles.items()}
    out = {}
    for name, definition in sorted({**carried, **definitions}.items()):
        doc = dict(definition.get("overrides") or {})
        doc["exclude"] = [*doc.get("exclude", []), *definition.get("exclude", [])]
        out[name] = ProfileInput(
            definition=definition,
            layer=patches.from_doc(doc, name=f"profile:{name}", kind="config", file=config_file),
            rules=Rules(allow=definition.get("allow"), deny=definition.get("deny") or {}),
        )
    return out


def layers(
    upstream: Sequence[Layer],
    patch_layers: list[Layer],
    *,
    config_overrides: dict[str, Any] | None = None,
    config_file: str | None = None,
    overrides_module: str | None = None,
) -> list[Layer]:
    """The layers of a build, lowest precedence first: upstreams < patch files < config < code overrides."""
    out = [*upstream, *patch_layers]
    if config_overrides is not None:
        out.append(patches.from_doc(config_overrides, name="config", kind="config", file=config_file))
    if overrides_module is not None:
        out.append(overrides.load_module(overrides_module))
    return out
