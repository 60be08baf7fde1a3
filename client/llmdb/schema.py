"""The llmdb data model: one definition shared by the daemon (which builds it) and the client (which reads it).

Field names here are the public contract: they are the JSON printed by `llmdb get SPEC --json` and the
msgpack stored in snapshot files.
"""

import re
from typing import Any, Literal

from msgspec import Struct, field

__all__ = [
    "MODALITIES",
    "MODES",
    "SCHEMA_VERSION",
    "STATUSES",
    "Benchmarks",
    "BuildIssue",
    "BuildReport",
    "Capabilities",
    "Cost",
    "CostTier",
    "JsonMode",
    "Lifecycle",
    "Limits",
    "Modalities",
    "Model",
    "Overridden",
    "Provenance",
    "Provider",
    "Reasoning",
    "ServicePrices",
    "SourceInfo",
    "Streaming",
    "TokenPrices",
    "Tools",
    "UnitPrices",
    "canonical_provider_id",
    "make_spec",
]

SCHEMA_VERSION = 5
"""Bumped on any change to the structs below; stored in every snapshot header. 2 added `Model.mode`,
`Model.lifecycle`, `Model.names`, `Cost.input_image`/`output_image`, service tiers (`Cost.batch`/`flex`/`priority`) and
`Cost.per_unit`; 3 added `cache_write_1h` and `UnitPrices.web_search`; 4 added `Model.benchmarks`; 5 added
`Model.identity` and `Benchmarks.via`. Every new field has a default, so a reader of 5 opens schema 1 to 4 files
(`READABLE_SCHEMAS`)."""
READABLE_SCHEMAS = (1, 2, 3, 4, 5)

STATUSES = ("active", "alpha", "beta", "deprecated", "retired")
MODALITIES = ("text", "image", "audio", "video", "pdf", "embedding")
"""Modalities the catalog knows; other lower-case names are accepted and kept."""

MODES = (
    "chat",
    "responses",
    "completion",
    "embedding",
    "rerank",
    "image_generation",
    "image_edit",
    "video_generation",
    "audio_transcription",
    "audio_speech",
    "realtime",
    "moderation",
    "ocr",
    "search",
)
"""What a model is called for (LiteLLM's `mode` words); other lower-case words are accepted and kept."""

Status = Literal["active", "alpha", "beta", "deprecated", "retired"]

# Every struct is `gc=False`: decoded data never forms reference cycles, and not tracking thousands of decoded
# models keeps the garbage collector from rescanning them (it halves the cost of a first lookup).
# The value rules (non-negative prices, dates as YYYY[-MM[-DD]], string sizes, ...) are enforced by llmdbd when
# it builds a catalog (llmdbd/rules.py). These read types carry none, so a client decodes a record from a
# verified snapshot in about 2 us instead of 6.
PartialDate = str
"""`YYYY`, `YYYY-MM` or `YYYY-MM-DD`."""
Price = float
"""USD per 1M tokens, >= 0."""

_NON_CANONICAL = re.compile(r"[^a-z0-9_]")


def canonical_provider_id(upstream_id: str) -> str:
    """Lower-case the id; every character outside `[a-z0-9_]` becomes `_` (`google-vertex` → `google_vertex`)."""
    return _NON_CANONICAL.sub("_", upstream_id.lower())


def make_spec(provider: str, model_id: str) -> str:
    """The global model key, `provider:id`; the provider part never contains `:`, so split on the first one."""
    return f"{provider}:{model_id}"


class Provider(Struct, frozen=True, kw_only=True, gc=False):
    id: str
    name: str | None = None
    base_url: str | None = None
    env: tuple[str, ...] = ()
    doc: str | None = None
    npm: str | None = None
    aliases: tuple[str, ...] = ()
    extra: dict[str, Any] = {}


class Limits(Struct, frozen=True, kw_only=True, gc=False):
    """Token limits; null means unknown (upstream writes 0 for that)."""

    context: int | None = None
    input: int | None = None
    output: int | None = None


class TokenPrices(Struct, frozen=True, kw_only=True, gc=False):
    """USD per 1M tokens of each kind: the prices `Cost`, its context tiers and its service tiers all carry."""

    input: Price | None = None
    output: Price | None = None
    cache_read: Price | None = None
    cache_write: Price | None = None
    """Writing the prompt cache; for Anthropic, the default 5-minute cache."""
    cache_write_1h: Price | None = None
    """Writing Anthropic's 1-hour prompt cache."""
    reasoning: Price | None = None
    input_audio: Price | None = None
    output_audio: Price | None = None
    input_image: Price | None = None
    output_image: Price | None = None


class CostTier(TokenPrices, frozen=True, kw_only=True, gc=False):
    """Prices that replace the base prices once the prompt's context exceeds `above` tokens."""

    above: int


class ServicePrices(TokenPrices, frozen=True, kw_only=True, gc=False):
    """USD per 1M tokens at a service tier (batch, flex, priority), replacing the standard prices it names."""

    tiers: tuple[CostTier, ...] = ()


class UnitPrices(Struct, frozen=True, kw_only=True, gc=False):
    """USD per unit other than tokens (per image, second, character, query, page, request, pixel)."""

    image_input: float | None = None
    image_output: float | None = None
    second_input: float | None = None
    second_output: float | None = None
    audio_second_input: float | None = None
    video_second_input: float | None = None
    video_second_output: float | None = None
    character_input: float | None = None
    character_output: float | None = None
    query: float | None = None
    page: float | None = None
    request: float | None = None
    pixel_input: float | None = None
    pixel_output: float | None = None
    web_search: float | None = None
    """One web search (LiteLLM's `search_context_cost_per_query` at the default medium context size)."""


class Cost(TokenPrices, frozen=True, kw_only=True, gc=False):
    """USD per 1M tokens; a missing `Model.cost` means unknown, which is not the same as 0 (free)."""

    tiers: tuple[CostTier, ...] = ()
    batch: ServicePrices | None = None
    flex: ServicePrices | None = None
    priority: ServicePrices | None = None
    per_unit: UnitPrices | None = None


class Modalities(Struct, frozen=True, kw_only=True, gc=False):
    input: tuple[str, ...] = ()
    output: tuple[str, ...] = ()


class Reasoning(Struct, frozen=True, kw_only=True, gc=False):
    enabled: bool = False
    token_budget_min: int | None = None
    token_budget_max: int | None = None


class Tools(Struct, frozen=True, kw_only=True, gc=False):
    enabled: bool = False
    streaming: bool = False
    strict: bool = False
    parallel: bool = False


class JsonMode(Struct, frozen=True, kw_only=True, gc=False):
    native: bool = False
    schema: bool = False
    strict: bool = False


class Streaming(Struct, frozen=True, kw_only=True, gc=False):
    """Transport: what the API can stream, as opposed to what the model can do."""

    text: bool = True
    tool_calls: bool = False


class Lifecycle(Struct, frozen=True, kw_only=True, gc=False):
    """When the provider stops the model, and what it points users to (`status` says where it stands now)."""

    deprecation_date: PartialDate | None = None
    retirement_date: PartialDate | None = None
    replacement: str | None = None
    """The spec or model id the provider names as successor."""


class Benchmarks(Struct, frozen=True, kw_only=True, gc=False):
    """How good the model is, as indices from 0 to 100 (higher is better), where a source measured it:
    Artificial Analysis' intelligence, coding and agentic indices (as OpenRouter lists them)."""

    intelligence: float | None = None
    coding: float | None = None
    agentic: float | None = None
    source: str | None = None
    """Who measured them (`artificial_analysis`)."""
    via: str | None = None
    """The spec of the host they were listed on, when this model has them through its identity (another host of
    the same model); None on the model they were listed on."""


class Capabilities(Struct, frozen=True, kw_only=True, gc=False):
    chat: bool = True
    embeddings: bool = False
    reasoning: Reasoning = field(default_factory=Reasoning)
    tools: Tools = field(default_factory=Tools)
    json: JsonMode = field(default_factory=JsonMode)
    streaming: Streaming = field(default_factory=Streaming)
    attachments: bool = False
    temperature: bool = True


class Model(Struct, frozen=True, kw_only=True, gc=False):
    spec: str
    id: str
    provider: str
    provider_model_id: str | None = None
    name: str | None = None
    family: str | None = None
    """As the sources give it (models.dev's families are coarse: `gpt`, `claude-sonnet`); never derived."""
    base_id: str | None = None
    """The id without snapshot-date, API-version and `-latest` suffixes (`gpt-4o-2024-08-06` → `gpt-4o`):
    derived by llmdbd, it groups a model's dated snapshots."""
    identity: str | None = None
    """The model across its hosts, `maker/model` (`anthropic/claude-sonnet-4.5` for Anthropic's
    `claude-sonnet-4-5`, Bedrock's `us.anthropic.claude-sonnet-4-5-20250929-v1:0` and OpenRouter's
    `anthropic/claude-sonnet-4.5`): derived by llmdbd from the id where its maker is certain (docs/hosts.md)."""
    release_date: PartialDate | None = None
    last_updated: PartialDate | None = None
    knowledge: PartialDate | None = None
    status: Status = "active"
    deprecated: bool = False
    mode: str | None = None
    """`chat`, `embedding`, `image_generation`, ... (`MODES`); derived by llmdbd where no source says."""
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    open_weights: bool | None = None
    limits: Limits = field(default_factory=Limits)
    cost: Cost | None = None
    modalities: Modalities = field(default_factory=Modalities)
    capabilities: Capabilities = field(default_factory=Capabilities)
    benchmarks: Benchmarks | None = None
    aliases: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    """Names other catalogs use for this model (LiteLLM's keys: `gpt-4o`, `vertex_ai/gemini-2.5-pro`), which
    resolve to it without a provider."""
    tags: tuple[str, ...] = ()
    extra: dict[str, Any] = {}


class Overridden(Struct, frozen=True, kw_only=True, gc=False):
    """A value a lower source gave a field before a higher source replaced it."""

    source: str
    file: str | None = None
    version: str | None = None
    value: Any = None


class Provenance(Struct, frozen=True, kw_only=True, gc=False):
    """Which source set a field's final value, and what it overrode (lowest first)."""

    source: str
    file: str | None = None
    version: str | None = None
    deleted: bool = False
    overridden: tuple[Overridden, ...] = ()


class SourceInfo(Struct, frozen=True, kw_only=True, gc=False):
    """One input of a build with its version stamp (sha256 of the bytes, or an ETag)."""

    name: str
    kind: str
    file: str | None = None
    version: str | None = None


class BuildIssue(Struct, frozen=True, kw_only=True, gc=False):
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


class BuildReport(Struct, frozen=True, kw_only=True, gc=False):
    issues: tuple[BuildIssue, ...] = ()
    sources: tuple[SourceInfo, ...] = ()
    stage_ms: dict[str, float] = {}
    providers: int = 0
    models: int = 0
    denied: int = 0
    excluded: int = 0

    @property
    def errors(self) -> tuple[BuildIssue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> tuple[BuildIssue, ...]:
        return tuple(i for i in self.issues if i.severity == "warning")
