"""The llmdb data model: one definition shared by the daemon (which builds it) and the client (which reads it).

Field names here are the public contract: they are the JSON printed by `llmdb get SPEC --json` and the
msgpack stored in snapshot files.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct, field

__all__ = [
    "MAX_STRING",
    "MODALITIES",
    "SCHEMA_VERSION",
    "STATUSES",
    "BuildIssue",
    "BuildReport",
    "Capabilities",
    "Cost",
    "CostTier",
    "JsonMode",
    "Limits",
    "Modalities",
    "Model",
    "Overridden",
    "Provenance",
    "Provider",
    "Reasoning",
    "SourceInfo",
    "Streaming",
    "Tools",
    "canonical_provider_id",
    "make_spec",
]

SCHEMA_VERSION = 1
"""Bumped on any incompatible change to the structs below; stored in every snapshot header."""

STATUSES = ("active", "alpha", "beta", "deprecated", "retired")
MODALITIES = ("text", "image", "audio", "video", "pdf", "embedding")
"""Modalities the catalog knows; other lower-case names are accepted and kept."""

Status = Literal["active", "alpha", "beta", "deprecated", "retired"]
PartialDate = Annotated[
    str,
    Meta(
        pattern=r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$",
        description="YYYY, YYYY-MM or YYYY-MM-DD",
    ),
]
Price = Annotated[float, Meta(ge=0)]
"""USD per 1M tokens."""
TokenCount = Annotated[int, Meta(ge=1)]
MAX_STRING = 1 << 20
"""Longest string accepted in a record (1 MiB): anything longer is an error, not a value."""
Text = Annotated[str, Meta(max_length=MAX_STRING)]
Name = Annotated[str, Meta(min_length=1, max_length=MAX_STRING)]
Modality = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]*$")]

_NON_CANONICAL = re.compile(r"[^a-z0-9_]")


def canonical_provider_id(upstream_id: str) -> str:
    """Lower-case the id; every character outside `[a-z0-9_]` becomes `_` (`google-vertex` → `google_vertex`)."""
    return _NON_CANONICAL.sub("_", upstream_id.lower())


def make_spec(provider: str, model_id: str) -> str:
    """The global model key, `provider:id`; the provider part never contains `:`, so split on the first one."""
    return f"{provider}:{model_id}"


class Provider(Struct, frozen=True, kw_only=True):
    id: Name
    name: Text | None = None
    base_url: Text | None = None
    env: tuple[Text, ...] = ()
    doc: Text | None = None
    npm: Text | None = None
    aliases: tuple[Text, ...] = ()
    extra: dict[Text, Any] = {}


class Limits(Struct, frozen=True, kw_only=True):
    """Token limits; null means unknown (upstream writes 0 for that)."""

    context: TokenCount | None = None
    input: TokenCount | None = None
    output: TokenCount | None = None


class CostTier(Struct, frozen=True, kw_only=True):
    """Prices that replace the base prices once the prompt's context exceeds `above` tokens."""

    above: Annotated[int, Meta(ge=0)]
    input: Price | None = None
    output: Price | None = None
    cache_read: Price | None = None
    cache_write: Price | None = None
    reasoning: Price | None = None
    input_audio: Price | None = None
    output_audio: Price | None = None


class Cost(Struct, frozen=True, kw_only=True):
    """USD per 1M tokens; a missing `Model.cost` means unknown, which is not the same as 0 (free)."""

    input: Price | None = None
    output: Price | None = None
    cache_read: Price | None = None
    cache_write: Price | None = None
    reasoning: Price | None = None
    input_audio: Price | None = None
    output_audio: Price | None = None
    tiers: tuple[CostTier, ...] = ()


class Modalities(Struct, frozen=True, kw_only=True):
    input: tuple[Modality, ...] = ()
    output: tuple[Modality, ...] = ()


class Reasoning(Struct, frozen=True, kw_only=True):
    enabled: bool = False
    token_budget_min: Annotated[int, Meta(ge=0)] | None = None
    token_budget_max: Annotated[int, Meta(ge=0)] | None = None


class Tools(Struct, frozen=True, kw_only=True):
    enabled: bool = False
    streaming: bool = False
    strict: bool = False
    parallel: bool = False


class JsonMode(Struct, frozen=True, kw_only=True):
    native: bool = False
    schema: bool = False
    strict: bool = False


class Streaming(Struct, frozen=True, kw_only=True):
    """Transport: what the API can stream, as opposed to what the model can do."""

    text: bool = True
    tool_calls: bool = False


class Capabilities(Struct, frozen=True, kw_only=True):
    chat: bool = True
    embeddings: bool = False
    reasoning: Reasoning = field(default_factory=Reasoning)
    tools: Tools = field(default_factory=Tools)
    json: JsonMode = field(default_factory=JsonMode)
    streaming: Streaming = field(default_factory=Streaming)
    attachments: bool = False
    temperature: bool = True


class Model(Struct, frozen=True, kw_only=True):
    spec: Name
    id: Name
    provider: Name
    provider_model_id: Text | None = None
    name: Text | None = None
    family: Text | None = None
    release_date: PartialDate | None = None
    last_updated: PartialDate | None = None
    knowledge: PartialDate | None = None
    status: Status = "active"
    deprecated: bool = False
    open_weights: bool | None = None
    limits: Limits = field(default_factory=Limits)
    cost: Cost | None = None
    modalities: Modalities = field(default_factory=Modalities)
    capabilities: Capabilities = field(default_factory=Capabilities)
    aliases: tuple[Text, ...] = ()
    tags: tuple[Text, ...] = ()
    extra: dict[Text, Any] = {}


class Overridden(Struct, frozen=True, kw_only=True):
    """A value a lower source gave a field before a higher source replaced it."""

    source: str
    file: str | None = None
    version: str | None = None
    value: Any = None


class Provenance(Struct, frozen=True, kw_only=True):
    """Which source set a field's final value, and what it overrode (lowest first)."""

    source: str
    file: str | None = None
    version: str | None = None
    deleted: bool = False
    overridden: tuple[Overridden, ...] = ()


class SourceInfo(Struct, frozen=True, kw_only=True):
    """One input of a build with its version stamp (sha256 of the bytes, or an ETag)."""

    name: str
    kind: str
    file: str | None = None
    version: str | None = None


class BuildIssue(Struct, frozen=True, kw_only=True):
    """A problem found while building, kept as data so daemons, CLIs and tests can all show it."""

    severity: Literal["error", "warning"]
    stage: str
    message: str
    source: str | None = None
    file: str | None = None
    provider: str | None = None
    model: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = " ".join(
            f"{k}={v}"
            for k, v in (
                ("source", self.source),
                ("file", self.file),
                ("provider", self.provider),
                ("model", self.model),
                ("field", self.field),
            )
            if v is not None
        )
        return f"{self.severity}: [{self.stage}] {self.message}" + (f" ({where})" if where else "")


class BuildReport(Struct, frozen=True, kw_only=True):
    issues: tuple[BuildIssue, ...] = ()
    sources: tuple[SourceInfo, ...] = ()
    stage_ms: dict[str, float] = {}
    providers: int = 0
    models: int = 0
    denied: int = 0

    @property
    def errors(self) -> tuple[BuildIssue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> tuple[BuildIssue, ...]:
        return tuple(i for i in self.issues if i.severity == "warning")
