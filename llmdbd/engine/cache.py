"""`ModelCache`: what a daemon's rebuilds can reuse, so a patch drop recomputes only the models patches touch."""

from __future__ import annotations

import msgspec

from llmdb.schema import BuildIssue, Model
from llmdbd.engine.layer import Layer
from llmdbd.engine.merge import FieldSource, ModelKey

Entry = tuple[Model, dict[str, FieldSource], list[BuildIssue]]
"""A finished model, its field sources and the issues found for it."""


class ModelCache:
    """Models only the lowest layer defines, merged, enriched and converted once, then reused by every build
    whose lowest layer is that same prepared layer object (provenance stays valid: `enrich` is source 0 and the
    lowest layer source 1 in every build)."""

    def __init__(self) -> None:
        self._layer: Layer | None = None
        self._entries: dict[ModelKey, Entry] = {}

    def split(self, layers: list[Layer], touched: set[ModelKey]) -> tuple[dict[ModelKey, Entry], list[Layer]]:
        """The cached entries this build can reuse, and the layers left to merge (the lowest without them)."""
        if not layers or self._layer is not layers[0] or not layers[0].prepared:
            self._layer, self._entries = (layers[0] if layers else None), {}
            return {}, layers
        reused = {key: entry for key, entry in self._entries.items() if key not in touched}
        if not reused:
            return {}, layers
        base = layers[0]
        rest = [f for f in base.fragments if f.model is None or (f.provider, f.model) not in reused]
        return reused, [msgspec.structs.replace(base, fragments=rest), *layers[1:]]

    @property
    def base(self) -> Layer | None:
        """The lowest layer the cached models come from."""
        return self._layer

    def __len__(self) -> int:
        return len(self._entries)

    def remember(self, key: ModelKey, entry: Entry) -> None:
        """Keep a model that only the lowest layer defines, for the next build."""
        self._entries[key] = entry
