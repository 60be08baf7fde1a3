"""`ModelCache`: what a daemon's rebuilds can reuse, so a patch drop recomputes only the models patches touch."""

from __future__ import annotations

import msgspec

from llmdb.schema import BuildIssue, Model
from llmdbd.engine.hosts import Shared
from llmdbd.engine.layer import Layer
from llmdbd.engine.merge import FieldSource, ModelKey
from llmdbd.engine.records import Records

Entry = tuple[Model, dict[str, FieldSource], list[BuildIssue]]
"""A finished model, its field sources and the issues found for it."""


def upstream_count(layers: list[Layer]) -> int:
    """How many of the lowest layers are upstream catalogs (the cache's base)."""
    count = 0
    while count < len(layers) and layers[count].info.kind == "upstream":
        count += 1
    return count or min(1, len(layers))


class ModelCache:
    """Models only the upstream layers define (none of the layers above touches them), merged, enriched and
    converted once, then reused by every build whose upstream layers are those same prepared layer objects
    (provenance stays valid: `enrich` is source 0 and the upstreams sources 1, 2, ... in every build)."""

    def __init__(self) -> None:
        self._layers: tuple[Layer, ...] = ()
        self._agreement = True
        self._entries: dict[ModelKey, Entry] = {}
        self._last: tuple[frozenset[ModelKey], dict[ModelKey, Entry], list[Layer]] | None = None
        """The last split: while the same models are touched and nothing was remembered since, it is the answer
        again (an operator editing one patch file: no walk over every cached model and fragment)."""
        self.records = Records()
        self.shared: Shared = {}
        """The last build's benchmark shares (`engine.hosts.share_benchmarks`), reused while both models are."""
        self.profiles: dict[str, ModelCache] = {}
        """The caches of the profiles' builds, by profile name (`engine.profiles`)."""
        """Every built model's snapshot record, remembered for the next build (any model, patched ones too)."""

    def split(
        self, layers: list[Layer], touched: set[ModelKey], agreement: bool = True
    ) -> tuple[dict[ModelKey, Entry], list[Layer]]:
        """The cached entries this build can reuse, and the layers left to merge (the upstreams without them);
        none when the upstream layers or the agreement rule changed."""
        count = upstream_count(layers)
        base = tuple(layers[:count])
        same = len(base) == len(self._layers) and all(a is b for a, b in zip(base, self._layers, strict=True))
        if not base or not same or agreement != self._agreement or not all(layer.prepared for layer in base):
            self._layers, self._entries, self._last, self._agreement = base, {}, None, agreement
            return {}, layers
        touched_now = frozenset(touched)
        if self._last is not None and self._last[0] == touched_now:
            return self._last[1], [*self._last[2], *layers[count:]]
        reused = {key: entry for key, entry in self._entries.items() if key not in touched}
        if not reused:
            return {}, layers
        rest = [
            msgspec.structs.replace(
                layer,
                fragments=[f for f in layer.fragments if f.model is None or (f.provider, f.model) not in reused],
            )
            for layer in base
        ]
        self._last = (touched_now, reused, rest)
        return reused, [*rest, *layers[count:]]

    @property
    def base(self) -> Layer | None:
        """The highest upstream layer the cached models come from."""
        return self._layers[-1] if self._layers else None

    def __len__(self) -> int:
        return len(self._entries)

    def remember(self, key: ModelKey, entry: Entry) -> None:
        """Keep a model that only the upstream layers define, for the next build."""
        self._entries[key] = entry
        self._last = None
