"""What one request consumed, in llmdb's convention (`Usage`), with the rules its counts follow and the bounds
they must stay within (docs/cost.md). Reading it from an SDK's response is `_responses`'s."""

from collections.abc import Mapping
from typing import Annotated, Any, TypedDict

from msgspec import Meta, Struct, ValidationError, convert, to_builtins

from llmdb.errors import InvalidUsage

__all__ = [
    "MAX_TOKENS",
    "SERVICE_TIERS",
    "Usage",
    "UsageCounts",
    "check",
    "consistent",
    "from_counts",
    "standard_tier",
]

SERVICE_TIERS = ("batch", "flex", "priority")
"""Service tiers priced apart from the standard one (`Cost.batch`, `Cost.flex`, `Cost.priority`)."""
_STANDARD = frozenset({"standard", "default", "auto", "on_demand"})
"""How responses name the standard tier; priced with the standard prices."""
STREAM_HINT = "a stream reports usage only when asked: stream_options={'include_usage': True}"


MAX_TOKENS = 10**15
"""The largest count `cost` and `usage` accept (tokens, characters, images, ...); above it, `InvalidUsage`.

The largest context windows hold about 10M tokens: 10**15 is a hundred million such full prompts, more than any
one priced usage can describe, even a month of traffic summed. A count past it is a typo, an overflow or a unit
mix-up, and pricing it would give a confident absurd total. It also stays below 2**53, so every count is exact
as a float and a total is plain arithmetic on it."""
MAX_SECONDS = 1e12
"""The longest audio or video accepted, in seconds (some 30,000 years); above it, `InvalidUsage`."""

Count = Annotated[int, Meta(ge=0, le=MAX_TOKENS)]
Seconds = Annotated[float, Meta(ge=0, le=MAX_SECONDS)]


class Usage(Struct, frozen=True, kw_only=True, gc=False, forbid_unknown_fields=True):
    """One request's billable usage. `input_tokens` counts every prompt token, cached ones included, and
    `output_tokens` every generated token, reasoning included (OpenAI's convention, and genai-prices' and
    LiteLLM's); the other token counts are parts of those two. Per-unit counts stand apart.

    Built by `usage()`, or by hand: `check()` (which `cost` applies) enforces the types, bounds (0 to
    `MAX_TOKENS`) and sums."""

    input_tokens: Count = 0
    output_tokens: Count = 0
    cache_read_tokens: Count = 0
    """Part of `input_tokens` read from the prompt cache."""
    cache_write_tokens: Count = 0
    """Part of `input_tokens` written to the prompt cache, every lifetime included."""
    cache_write_1h_tokens: Count = 0
    """Part of `cache_write_tokens` written to Anthropic's 1-hour cache."""
    reasoning_tokens: Count = 0
    """Part of `output_tokens` spent reasoning (thinking)."""
    input_audio_tokens: Count = 0
    """Part of `input_tokens` that is audio."""
    output_audio_tokens: Count = 0
    input_image_tokens: Count = 0
    output_image_tokens: Count = 0
    images: Count = 0
    """Images generated (priced per image)."""
    input_images: Count = 0
    """Images sent to a model that prices them per image."""
    audio_seconds: Seconds = 0
    """Seconds of audio sent (transcription)."""
    video_seconds: Seconds = 0
    """Seconds of video generated."""
    characters: Count = 0
    """Characters sent to a model priced per character (speech synthesis)."""
    requests: Count = 0
    web_searches: Count = 0
    service_tier: str | None = None
    """`batch`, `flex` or `priority` as the response reported it; None for the standard tier."""
    api: str | None = None
    """The shape it was read from (`APIS`); None when built by hand."""


COUNTS = tuple(name for name in Usage.__struct_fields__ if name not in ("service_tier", "api"))
"""The counts of a `Usage`, in its order (the keywords of `llmdb.cost`)."""
PER_UNIT = ("images", "input_images", "audio_seconds", "video_seconds", "characters", "requests", "web_searches")
"""The counts of a `Usage` priced per unit rather than per token: the ones that may come beside a response's usage."""


class OtherCounts(TypedDict, total=False):
    """The counts of a `Usage` other than the five token counts most requests have (`UsageCounts` adds them)."""

    cache_write_1h_tokens: int
    input_audio_tokens: int
    output_audio_tokens: int
    input_image_tokens: int
    output_image_tokens: int
    images: int
    input_images: int
    audio_seconds: float
    video_seconds: float
    characters: int
    requests: int
    web_searches: int


class UsageCounts(OtherCounts, total=False):
    """The counts of a `Usage`, as keywords of `llmdb.cost` (each 0 when not given)."""

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int


_PARTS = (
    ("input_tokens", ("cache_read_tokens", "cache_write_tokens", "input_audio_tokens", "input_image_tokens")),
    ("cache_write_tokens", ("cache_write_1h_tokens",)),
    ("output_tokens", ("reasoning_tokens", "output_audio_tokens", "output_image_tokens")),
)
_WHY = {
    "input_tokens": "input_tokens counts every prompt token, cached ones included",
    "cache_write_tokens": "the 1-hour writes are part of all cache writes",
    "output_tokens": "output_tokens counts every generated token, reasoning included",
}


def check(u: Usage) -> Usage:
    """`u` if every count is a non-negative integer (seconds: number) and the parts fit in their wholes, else
    `InvalidUsage` naming the count and the rule it breaks."""
    return from_counts(to_builtins(u))


def from_counts(counts: Mapping[str, Any]) -> Usage:
    """A checked `Usage` from counts by field name. Integers only, the common case, are checked at once; anything
    else goes through msgspec, which enforces each field's type and bounds and names what it refuses."""
    for n in counts.values():
        if n.__class__ is not int or not 0 <= n <= MAX_TOKENS:
            break
    else:
        try:
            return consistent(Usage(**counts))
        except TypeError:
            pass  # an unknown count: msgspec names it
    try:
        return consistent(convert(counts, Usage))
    except ValidationError as exc:
        if "unknown field" in str(exc):
            unknown = str(exc).rpartition("field `")[2].rstrip("`")
            raise InvalidUsage(f"unknown usage count {unknown!r}; expected {', '.join(COUNTS)}") from None
        name = str(exc).rpartition("$.")[2].rstrip("`")
        value = counts.get(name)
        if past_limit(name, value):
            raise too_large(f"usage {name}", value) from None
        what = "number of seconds" if name in ("audio_seconds", "video_seconds") else "integer"
        raise InvalidUsage(f"usage {name}: expected a non-negative {what}, got {value!r}") from None


def past_limit(name: str, value: Any) -> bool:
    """Whether `value` is a number above the bound of the count `name` (seconds: `MAX_SECONDS`)."""
    limit = MAX_SECONDS if name.endswith("_seconds") else MAX_TOKENS
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > limit


def too_large(what: str, value: Any) -> InvalidUsage:
    limit = "1e12 seconds" if what.endswith("_seconds") else "10**15"
    return InvalidUsage(f"{what}: {value!r} is over llmdb's limit of {limit} (a typo or an overflow?)")


def consistent(u: Usage) -> Usage:
    """`u` if its parts fit in their wholes (cached and audio tokens within input, reasoning within output) and
    its wholes within `MAX_TOKENS` (the readers bound each count they read, not the sums they make)."""
    if u.input_tokens > MAX_TOKENS or u.output_tokens > MAX_TOKENS:
        name = "input_tokens" if u.input_tokens > MAX_TOKENS else "output_tokens"
        raise too_large(f"usage {name}", getattr(u, name))
    if (
        u.cache_read_tokens + u.cache_write_tokens + u.input_audio_tokens + u.input_image_tokens > u.input_tokens
        or u.cache_write_1h_tokens > u.cache_write_tokens
        or u.reasoning_tokens + u.output_audio_tokens + u.output_image_tokens > u.output_tokens
    ):
        for whole, parts in _PARTS:
            given = {name: getattr(u, name) for name in parts if getattr(u, name)}
            if sum(given.values()) > getattr(u, whole):
                said = " + ".join(f"{name} {n}" for name, n in given.items())
                raise InvalidUsage(f"usage: {said} exceeds {whole} {getattr(u, whole)} ({_WHY[whole]})")
    return u


def standard_tier(value: Any) -> str | None:
    """A service tier as llmdb names it: None for the standard tier (`default`, `auto`, ... as APIs say)."""
    if value is None:
        return None
    value = getattr(value, "value", value)  # an SDK enum
    if isinstance(value, Mapping):
        value = value.get("type")  # Bedrock's {"type": "flex"}
    if not isinstance(value, str) or value.lower() in _STANDARD:
        return None
    return value.lower()
