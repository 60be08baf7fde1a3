"""Parsing model specs: `provider:model`, `model@provider` and `provider/model`, with provider aliases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from llmdb.errors import InvalidSpec, UnknownProvider
from llmdb.schema import canonical_provider_id

MAX_NAME = 256
"""The longest name looked up: a longer one is `InvalidSpec` (no spec is near that long), its message cut."""


def provider_id(name: str, aliases: Mapping[str, str]) -> str | None:
    """The canonical id `name` stands for (`google-vertex`, `Google_Vertex` → `google_vertex`), or None."""
    found = aliases.get(name)
    if found is None:
        found = aliases.get(canonical_provider_id(name))
    return found


def parse_spec(text: str, aliases: Mapping[str, str]) -> tuple[str, str]:
    """Split `text` into (canonical provider id, model id) by the documented rule: the first of
    `provider_forms`. Model ids stay verbatim."""
    if not isinstance(text, str) or not text.strip():
        shown = clip(text) if isinstance(text, str) else f"of type {type(text).__name__}"
        raise InvalidSpec(f"invalid model spec {shown}: expected 'provider:model'")
    check_length(text)
    forms = provider_forms(text, aliases)
    if forms:
        return forms[0]
    _, at, after = text.rpartition("@")
    name = provider_part(text) or (after if at else None)
    if name is None:
        how = "'provider:model', 'model@provider' or 'provider/model'"
        raise InvalidSpec(f"invalid model spec {clip(text)}: no provider; write {how}")
    raise UnknownProvider(f"unknown provider {clip(name)} in {clip(text)}" + did_you_mean(name, aliases))


def provider_forms(text: str, aliases: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every (canonical provider id, model id) reading of `text`, in order: the colon form if the text before
    the first `:` is a known provider, the `@` form if the text after the last `@` is, the slash form if the
    text before the first `/` is. `InvalidSpec` when a reading leaves an empty model id (`openai:`)."""
    out = []
    head, colon, tail = text.partition(":")
    if colon and (pid := provider_id(head, aliases)) is not None:
        out.append((pid, _model_id(text, tail)))
    rest, at, name = text.rpartition("@")
    if at and (pid := provider_id(name, aliases)) is not None:
        out.append((pid, _model_id(text, rest)))
    head, slash, tail = text.partition("/")
    if slash and (pid := provider_id(head, aliases)) is not None:
        out.append((pid, _model_id(text, tail)))
    return out


def provider_part(text: str) -> str | None:
    """The provider part as it was written, before whichever of `:` and `/` comes first
    (`bedrockz/anthropic.x-v1:0` → `bedrockz`); None when there is neither."""
    seps = [i for i in (text.find(":"), text.find("/")) if i > 0]
    return text[: min(seps)] if seps else None


def check_length(text: str) -> None:
    """`InvalidSpec`, quoting the start of `text`, when it is longer than any name can be (`MAX_NAME`)."""
    if len(text) > MAX_NAME:
        raise InvalidSpec(f"invalid model name {clip(text)}: no name is longer than {MAX_NAME} characters")


def clip(text: str, width: int = 60) -> str:
    """`text` quoted as in `repr`, cut to about `width` characters: user input echoed in a one-line message."""
    return repr(text) if len(text) <= width else repr(text[:width]) + f"… ({len(text)} characters)"


def close_matches(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Up to `n` entries of `choices` that look like `word` (typos, missing suffixes), ignoring case."""
    import difflib  # only on the error path: keeps `import llmdb` lighter

    folded: dict[str, str] = {}
    for choice in choices:
        folded.setdefault(choice.casefold(), choice)
    return [folded[c] for c in difflib.get_close_matches(word.casefold(), list(folded), n=n, cutoff=0.6)]


def did_you_mean(word: str, choices: Iterable[str], n: int = 3) -> str:
    """`; did you mean 'a', 'b'?` for close matches of `word`, or an empty string."""
    close = close_matches(word, choices, n)
    return "; did you mean " + ", ".join(repr(c) for c in close) + "?" if close else ""


def _model_id(text: str, model_id: str) -> str:
    if not model_id:
        raise InvalidSpec(f"invalid model spec {clip(text)}: empty model id")
    return model_id
