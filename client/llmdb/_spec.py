"""Parsing model specs: `provider:model`, `model@provider` and `provider/model`, with provider aliases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from llmdb.errors import InvalidSpec, UnknownProvider
from llmdb.schema import canonical_provider_id


def provider_id(name: str, aliases: Mapping[str, str]) -> str | None:
    """The canonical id `name` stands for (`google-vertex`, `Google_Vertex` → `google_vertex`), or None."""
    found = aliases.get(name)
    if found is None:
        found = aliases.get(canonical_provider_id(name))
    return found


def parse_spec(text: str, aliases: Mapping[str, str]) -> tuple[str, str]:
    """Split `text` into (canonical provider id, model id) by the documented rule.

    The colon form if the text before the first `:` is a known provider; else the `@` form if the text after
    the last `@` is; else the slash form if the text before the first `/` is. Model ids stay verbatim.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidSpec(f"invalid model spec {text!r}: expected 'provider:model'")
    head, colon, tail = text.partition(":")
    if colon and (pid := provider_id(head, aliases)) is not None:
        return pid, _model_id(text, tail)
    head_at, at, provider_at = text.rpartition("@")
    if at and (pid := provider_id(provider_at, aliases)) is not None:
        return pid, _model_id(text, head_at)
    head_sl, slash, tail_sl = text.partition("/")
    if slash and (pid := provider_id(head_sl, aliases)) is not None:
        return pid, _model_id(text, tail_sl)
    seps = [i for i in (text.find(":"), text.find("/")) if i > 0]
    name = text[: min(seps)] if seps else provider_at if at else None  # the provider part as it was written
    if name is None:
        raise InvalidSpec(
            f"invalid model spec {text!r}: no provider; write 'provider:model', 'model@provider' or 'provider/model'"
        )
    raise UnknownProvider(f"unknown provider {name!r} in {text!r}" + did_you_mean(name, aliases))


def close_matches(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Up to `n` entries of `choices` that look like `word` (typos, missing suffixes)."""
    import difflib  # only on the error path: keeps `import llmdb` lighter

    return difflib.get_close_matches(word, list(choices), n=n, cutoff=0.6)


def did_you_mean(word: str, choices: Iterable[str], n: int = 3) -> str:
    """`; did you mean 'a', 'b'?` for close matches of `word`, or an empty string."""
    close = close_matches(word, choices, n)
    return "; did you mean " + ", ".join(repr(c) for c in close) + "?" if close else ""


def _model_id(text: str, model_id: str) -> str:
    if not model_id:
        raise InvalidSpec(f"invalid model spec {text!r}: empty model id")
    return model_id
