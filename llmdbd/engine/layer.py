"""What a source hands the engine: one layer of record fragments, written in llmdb's field names.

A layer is one unit of precedence: the models.dev catalog, one patch file, the config overrides or the code
overrides. Fragments are plain dicts so that partial records (a patch that only sets `cost.input`) and the
`"__delete__"` marker can flow through normalize, validate and merge before anything becomes a `Model`.
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from llmdb.schema import BuildIssue, SourceInfo

DELETE = "__delete__"
"""A patch value that removes the field a lower source set."""


class Fragment(Struct, kw_only=True):
    """Part (or all) of one provider or model record, as one source wrote it."""

    provider: str
    """Provider id as the source wrote it; normalize makes it canonical."""
    model: str | None
    """Model id, verbatim; None for a provider record."""
    data: dict[str, Any]
    full: bool = False
    """True for a complete upstream record: when invalid, the whole record is dropped."""
    where: str | None = None
    """Where in the file the fragment sits (`models[3]`), for reports."""
    order: int = 0
    """Position in its file: of two definitions of one record in a layer, the later one wins."""


class Layer(Struct, kw_only=True):
    """The fragments, excludes and problems of one source, with its version stamp."""

    info: SourceInfo
    fragments: list[Fragment]
    excludes: list[str] = []
    """Spec globs (`provider:glob`) of models to remove from the catalog."""
    issues: list[BuildIssue] = []
    denied: dict[str, str] = {}
    excluded: dict[str, str] = {}
    """Spec → reason: the allow/deny and exclude decisions of the catalog this layer was read from (a snapshot),
    kept by every build above it, so a follower with nothing of its own rebuilds its leader's content hash."""
    profiles: dict[str, dict[str, Any]] = {}
    """Profile name → definition, of the catalog this layer was read from: compiled again over the new build."""
    dated: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    """(provider, model) → the day since which this layer's prices of that model are in force and the prices
    they replaced, where the source dates them (a price source's `start_date`): an undated price still at the
    replaced value is out of date (`engine.agree`)."""
    rules: list[Any] = []
    """A price source's rules, not yet fragments: placed against the other upstreams' models when the layers
    are stacked (`UpstreamKind.place`, `sources/genai_prices.py`)."""
    atomic: bool = False
    """All or nothing: one error keeps every fragment and exclude of the layer out (patch files)."""
    prepared: bool = False
    """Set by `llmdbd.engine.prepare` once the layer is normalized and validated: a build skips those stages
    for it, so a daemon can reuse the layer (later stages never write into fragments)."""

    def issue(self, stage: str, message: str, *, severity: str = "error", **where: str | None) -> None:
        """Record a problem found in this layer, naming its source and file."""
        self.issues.append(
            BuildIssue(
                severity="warning" if severity == "warning" else "error",
                stage=stage,
                message=message,
                source=self.info.name,
                file=self.info.file,
                **where,
            )
        )
