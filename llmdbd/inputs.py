"""The inputs of a build, assembled in one place for `llmdbd build`/`check` and the daemon: which upstream
layer, then patch files, config overrides and code overrides, lowest precedence first."""

from __future__ import annotations

from typing import Any

from llmdbd.engine import Layer
from llmdbd.sources import modelsdev, overrides, packaged, patches


def upstream_layer(file: str | None = None, *, origin: str | None = None) -> Layer:
    """A models.dev `api.json` file (recorded as `origin` when given, e.g. its URL), else the packaged catalog."""
    if file is None:
        return packaged.load()
    return modelsdev.load_path(file, origin=origin)


def layers(
    upstream: Layer,
    patch_layers: list[Layer],
    *,
    config_overrides: dict[str, Any] | None = None,
    config_file: str | None = None,
    overrides_module: str | None = None,
) -> list[Layer]:
    """The layers of a build, lowest precedence first: upstream < patch files < config < code overrides."""
    out = [upstream, *patch_layers]
    if config_overrides is not None:
        out.append(patches.from_doc(config_overrides, name="config", kind="config", file=config_file))
    if overrides_module is not None:
        out.append(overrides.load_module(overrides_module))
    return out
