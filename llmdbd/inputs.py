"""From configuration to a built catalog, the one way: `llmdbd build`/`check`, the daemon, `history import` and
the benches all call `catalog`. The layers are the upstream catalogs in their configured precedence (the
packaged catalog when there are none), then patch files, config overrides and code overrides, lowest
precedence first; the profiles are compiled over them."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from llmdbd.config import Config
from llmdbd.engine import BuiltCatalog, Layer, ModelCache, Rules, build
from llmdbd.engine.profiles import ProfileInput, build_profiles
from llmdbd.sources import overrides, packaged, patches
from llmdbd.sources.upstreams import UPSTREAMS


def catalog(
    config: Config,
    config_file: str | None = None,
    *,
    upstream: Sequence[Layer] | None = None,
    patch_layers: Sequence[Layer] | None = None,
    cache: ModelCache | None = None,
    origins: Mapping[str, str | None] | None = None,
    as_of: str | None = None,
) -> BuiltCatalog:
    """The catalog `config` describes, with its profiles; `BuildError` when no model survives.

    `upstream` and `patch_layers` are read from the configuration's files and patch directories when not given
    (the daemon gives the bodies it fetched and the patch files it accepted); `origins` records an upstream's
    file as something else (the URL it came from); `cache` lets a daemon reuse what the last build merged;
    `as_of` reads dated prices as of that day (ISO), not today (`history import`)."""
    started = time.perf_counter()
    found = layers(
        upstream_layers(config, origins, as_of) if upstream is None else upstream,
        patches.load_dirs(config.patch_dirs) if patch_layers is None else patch_layers,
        config_overrides=config.overrides,
        config_file=config_file,
        overrides_module=config.overrides_module,
    )
    load_ms = round((time.perf_counter() - started) * 1000, 3)
    built = build(found, config.rules(), stage_ms={"load": load_ms}, cache=cache, agreement=config.consensus)
    compiled = profiles(config.profile_definitions(), found, config_file)
    caches = cache.profiles if cache is not None else None
    return build_profiles(built, found, compiled, caches, agreement=config.consensus)


def upstream_layers(
    config: Config, origins: Mapping[str, str | None] | None = None, as_of: str | None = None
) -> list[Layer]:
    """The configured upstreams' files (`file` of each), lowest precedence first, dated prices as of `as_of`
    (default today); the packaged catalog when none has one."""
    origins = origins or {}
    found = {
        name: kind.load_path(file, origin=origins.get(name), **({"as_of": as_of} if kind.dates and as_of else {}))
        for name in config.upstreams
        if (file := config.settings(name).file) and (kind := UPSTREAMS[name])
    }
    return stack(found, config.upstreams) or [packaged.load()]


def stack(found: Mapping[str, Layer | None], precedence: Sequence[str]) -> list[Layer]:
    """The upstream layers that exist, lowest precedence first (`precedence` lists the highest first); a price
    source's layer placed against the others (`UpstreamKind.place`)."""
    present = [(name, layer) for name in reversed(precedence) if (layer := found.get(name)) is not None]
    others = [layer for name, layer in present if UPSTREAMS[name].place is None]
    if not others:
        return []  # price sources alone price nothing: the packaged catalog, as with no upstream data
    return [layer if (place := UPSTREAMS[name].place) is None else place(layer, others) for name, layer in present]


def layers(
    upstream: Sequence[Layer],
    patch_layers: Sequence[Layer],
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
