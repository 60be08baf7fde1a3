"""Resolving the names people type to one model: specs, LiteLLM's keys and prefixes, and bare ids.

The rules, in order (each names itself in `Resolved.rule`; docs/names.md):

1. `spec`: the exact spec (`openai:gpt-4o`).
2. `maker`: a bare id whose maker's first-party provider (`contract.makers`) lists it, or has it as a model
   alias (`gpt-4o` → `openai:gpt-4o`, `gemini-2.5-pro` → `google:gemini-2.5-pro` although LiteLLM files that key
   under Vertex).
3. `spelling`, `snapshot`: the maker lists it but for its spelling (case, dots, underscores: `claude-sonnet-4.5`
   → `anthropic:claude-sonnet-4-5`), or as dated snapshots only: an undated or `-latest` name is the newest
   (`claude-3-5-sonnet-latest` → `anthropic:claude-3-5-sonnet-20241022`).
4. `litellm`: a key of LiteLLM's map (`vertex_ai/gemini-2.5-pro`, `us.anthropic.claude-…-v2:0`), from the
   snapshot's names table (`Model.names`).
5. `provider`: `provider:id`, `id@provider` or `provider/id`, the provider being a canonical id or any alias
   (LiteLLM's provider names are aliases: `bedrock`, `vertex_ai`, `gemini`, `together_ai`, …); `alias` when
   the id is one of the provider's model aliases; `route` after a LiteLLM route word (`bedrock/converse/…`);
   `spelling` and `snapshot` within that provider (`anthropic/claude-3.5-sonnet`).
6. `reseller`: a maker's bare id the maker does not list, which one other provider does (`dall-e-3` →
   `aiml:dall-e-3`, the note says "not listed by openai"); several such providers are `AmbiguousModel`, saying so.
7. `unique`: a bare id (or model alias) with no known maker that exactly one provider lists.
8. `case`: after a miss, any of these ignoring case and surrounding spaces, when exactly one name matches
   (`US.ANTHROPIC.CLAUDE-…-V2:0` → LiteLLM's key; a maker's id in capitals is `spelling` first); an exact name
   never pays for it.

Else `AmbiguousModel` lists the candidates, first-party providers first; `ModelNotFound` suggests close
names; `UnknownProvider` names the provider part as it was written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

from llmdb._snapshot import Snapshot
from llmdb._spec import (
    MAX_NAME,
    check_length,
    clip,
    close_matches,
    did_you_mean,
    provider_forms,
    provider_id,
    provider_part,
)
from llmdb.contract.makers import FIRST_PARTY, REGIONS, fold, maker_of
from llmdb.errors import AmbiguousModel, InvalidSpec, LLMDBError, ModelExcluded, ModelNotFound, UnknownProvider
from llmdb.schema import Model

ROUTE_WORDS: dict[str, tuple[str, ...]] = {"amazon_bedrock": ("converse/", "invoke/")}
"""LiteLLM route words between a provider prefix and the model id (`bedrock/converse/<id>`)."""


NAME_CACHE = 4096
"""Resolved names kept per mapping (names that are not exact specs: LiteLLM keys, bare ids, other forms)."""


class Resolver:
    """A catalog's names → specs, remembered per mapping: the rules' answers and the indexes they need (bare
    ids, case-folded names), each made on first need and dropped with the mapping it came from."""

    def __init__(self) -> None:
        self._bare: tuple[Snapshot, dict[str, list[str]]] | None = None
        self._folded: tuple[Snapshot, dict[str, list[str]]] | None = None
        self._family: tuple[Snapshot | None, dict[str, Family]] = (None, {})
        self._names: tuple[Snapshot | None, dict[tuple[str, tuple[str, ...] | None], Resolved]] = (None, {})

    def clear(self) -> None:
        """Forget every mapping's names (a new mapping is served)."""
        self._bare = self._folded = None
        self._names = (None, {})
        self._family = (None, {})

    def resolve(self, snap: Snapshot, name: str, scope: list[str] | None = None) -> Resolved:
        """The spec `name` stands for in `snap` and the rule that found it (`resolve` below)."""
        cached = self._names
        if cached[0] is not snap:
            cached = self._names = (snap, {})
        key = (name, tuple(scope) if scope is not None else None)
        found = cached[1].get(key)
        if found is None:
            found = resolve(snap, name, self.bare_ids(snap), scope, lambda: self.folded(snap), self.family)
            if len(cached[1]) < NAME_CACHE:
                cached[1][key] = found
        return found

    def model(self, snap: Snapshot, name: str, scope: list[str] | None = None, *, exact_first: bool = False) -> Model:
        """The model `name` stands for in `snap`, through the rules (remembered); `exact_first`: try it as an
        exact spec before them (for names that mostly are: `get`'s misses, `select(like=)`)."""
        model = snap.model(name) if exact_first and scope is None else None
        if model is None:
            spec = self.resolve(snap, name, scope).spec
            model = snap.model(spec)
            if model is None:  # a names table pointing nowhere: the file is inconsistent
                raise ModelNotFound(f"no model {spec!r}")
        return model

    def bare_ids(self, snap: Snapshot) -> dict[str, list[str]]:
        """Model id or model alias → specs having it, built once per mapping (only for bare-id resolution): an
        alias a patch adds (`"aliases": ["gpt4o"]`) resolves bare as the id does."""
        bare = self._bare
        if bare is None or bare[0] is not snap:
            index: dict[str, list[str]] = {}
            hidden = snap.hidden  # a profile's exclusions are no candidates
            for spec in snap.specs:
                if spec not in hidden:
                    index.setdefault(spec.split(":", 1)[1], []).append(spec)
            for alias, spec in snap.model_aliases.items():
                _, colon, alias_id = alias.partition(":")
                if colon:  # an alias spec (`openai:gpt4o`); anything else is no name a bare id could be
                    specs = index.setdefault(alias_id, [])
                    if spec not in specs:
                        specs.append(spec)
            bare = self._bare = (snap, index)
        return bare[1]

    def family(self, snap: Snapshot, pid: str) -> Family:
        """`family_of` one provider, built once per mapping on the first name that needs it."""
        cached = self._family
        if cached[0] is not snap:
            cached = self._family = (snap, {})
        found = cached[1].get(pid)
        if found is None:
            found = cached[1][pid] = family_of(snap, pid)
        return found

    def folded(self, snap: Snapshot) -> dict[str, list[str]]:
        """`folded_names`, built once per mapping, on the first name that misses every rule."""
        folded = self._folded
        if folded is None or folded[0] is not snap:
            folded = self._folded = (snap, folded_names(snap, self.bare_ids(snap)))
        return folded[1]


def provider_of(snap: Snapshot, name: str) -> str:
    """The canonical id of provider `name` (an id or alias); `UnknownProvider` with close matches otherwise."""
    pid = provider_id(name, snap.provider_alias_map) if isinstance(name, str) else None
    if pid is None:
        shown = clip(name) if isinstance(name, str) else repr(name)
        hint = did_you_mean(name, snap.provider_alias_map) if isinstance(name, str) and len(name) <= MAX_NAME else ""
        raise UnknownProvider(f"unknown provider {shown}{hint}; `llmdb providers` lists them")
    return pid


def scope_of(snap: Snapshot, scope: str | Sequence[str] | None) -> list[str] | None:
    """Canonical ids of the providers named; `UnknownProvider` with close matches for one it lacks."""
    if scope is None:
        return None
    return [provider_of(snap, name) for name in ([scope] if isinstance(scope, str) else scope)]


class Resolved(NamedTuple):
    spec: str
    rule: str
    """`spec`, `maker`, `snapshot`, `spelling`, `litellm`, `provider`, `alias`, `route`, `unique`, `reseller` or
    `case`."""
    note: str = ""
    """Why, where the rule chose among several models or landed off the maker (`snapshot`, `reseller`)."""


def resolve(
    snap: Snapshot,
    text: str,
    bare: dict[str, list[str]],
    scope: list[str] | None = None,
    folded: Callable[[], Mapping[str, list[str]]] | None = None,
    family: Callable[[Snapshot, str], Family] | None = None,
) -> Resolved:
    """The spec `text` names in `snap` and the rule that found it; `bare` is model id → specs; `folded` gives
    `folded_names` when a miss is to be retried ignoring case; `family` a provider's `family_of` (else built)."""
    if not isinstance(text, str) or not text.strip():
        shown = clip(text) if isinstance(text, str) else f"of type {type(text).__name__}"
        raise InvalidSpec(f"invalid model name {shown}: expected 'provider:model' or a model id")
    if snap.ordinal(text) is not None:
        return Resolved(text, "spec")
    check_length(text)
    if text != text.strip():
        return resolve(snap, text.strip(), bare, scope, folded, family)
    try:
        return _by_rules(snap, text, bare, scope, family or family_of)
    except (ModelNotFound, UnknownProvider) as exc:
        if folded is None or isinstance(exc, ModelExcluded):
            raise
        keys = {key for word in _spellings(snap, text) for key in folded().get(word.casefold(), ())} - {text}
        if len(keys) == 1:  # its own error (ambiguous, say) says more than this miss
            return Resolved(resolve(snap, keys.pop(), bare, scope, None, family).spec, "case")
        specs = set()
        for key in keys:  # `Qwen/Qwen3` and LiteLLM's `qwen/qwen3` may well name one model
            try:
                specs.add(resolve(snap, key, bare, scope, None, family).spec)
            except LLMDBError:
                continue
        if len(specs) != 1:
            raise
        return Resolved(specs.pop(), "case")


def folded_names(snap: Snapshot, bare: Iterable[str]) -> dict[str, list[str]]:
    """Every name a rule matches exactly (specs, model aliases, LiteLLM's keys, bare ids), by its case-folded
    form: what the `case` rule looks a missed name up in."""
    out: dict[str, list[str]] = {}
    for names in (snap.specs, snap.model_aliases, snap.names, bare):
        for name in names:
            out.setdefault(name.casefold(), []).append(name)
    return out


def _spellings(snap: Snapshot, text: str) -> list[str]:
    """`text` and its `provider:id` readings (`GPT-4o@OpenAI` → `openai:GPT-4o`)."""
    return [text, *(f"{pid}:{model_id}" for pid, model_id in provider_forms(text, snap.provider_alias_map))]


def _by_rules(
    snap: Snapshot,
    text: str,
    bare: dict[str, list[str]],
    scope: list[str] | None,
    family: Callable[[Snapshot, str], Family],
) -> Resolved:
    """Rules 2 to 7 (module docstring), for a name that is not an exact spec."""
    candidates = [s for s in bare.get(text, ()) if scope is None or s.split(":", 1)[0] in scope]
    maker = maker_of(text)
    if maker is not None and f"{maker}:{text}" in candidates:
        return Resolved(f"{maker}:{text}", "maker")  # before LiteLLM's keys: its `gemini-2.5-pro` is Vertex's
    for own in (maker, *REGIONS.get(maker, ())) if maker is not None else ():
        if scope is not None and own not in scope:
            continue
        if f"{own}:{text}" in candidates:  # on the maker's regional API (`REGIONS`)
            return Resolved(f"{own}:{text}", "maker", f"{maker}'s own {own}")
        alias = snap.model_alias(f"{own}:{text}")
        if alias is not None:
            return Resolved(alias, "maker")
        if f"{own}:{text}" in snap.excluded or f"{own}:{text}" in snap.hidden:
            continue  # excluded: no sibling stands in for it
        found = _in_family(snap, own, text, family)
        if found is not None:
            return found
    named = snap.names.get(text)
    if named is not None and (scope is None or named.split(":", 1)[0] in scope):
        return Resolved(named, "litellm")
    failure: Exception | None = None
    for pid, model_id in provider_forms(text, snap.provider_alias_map):
        found = _in_provider(snap, pid, model_id)
        spec = f"{pid}:{model_id}"
        if found is None and spec not in snap.excluded and spec not in snap.hidden:  # else `_missing` says why
            found = _in_family(snap, pid, model_id, family)
        if found is not None:
            return found
        if failure is None:
            failure = _missing(snap, pid, model_id, text)
    if candidates:
        if maker is not None and (scope is None or maker in scope):
            return _resold(text, maker, candidates)
        return _bare(text, candidates)
    if failure is not None:
        raise failure
    provider = provider_part(text)
    _, at, after = text.rpartition("@")
    if provider is None and at and close_matches(after, snap.provider_alias_map):
        provider = after  # `gpt-4o@openaii`; not `claude-3-5-haiku@20241022`, a model id
    if provider is not None:
        raise UnknownProvider(
            f"unknown provider {clip(provider)} in {clip(text)}" + did_you_mean(provider, snap.provider_alias_map)
        )
    for sep in _SEPARATORS:
        if text.startswith(sep) or text.endswith(sep):
            raise InvalidSpec(
                f"invalid model name {clip(text)}: nothing before or after {sep!r}; write 'provider:model',"
                " 'model@provider', 'provider/model' or a model id"
            )
    raise _not_found(f"no model {clip(text)} in any provider", text, bare)


_SEPARATORS = (":", "@", "/")


class Family(NamedTuple):
    """One provider's model ids by their folded spelling (`fold`), its `-latest` names and its dated snapshots
    (newest first) by folded base id: what the `spelling` and `snapshot` rules look a name up in."""

    spellings: dict[str, list[str]]
    latest: dict[str, str]
    snapshots: dict[str, list[str]]


_LATEST = "-latest"


def family_of(snap: Snapshot, pid: str) -> Family:
    """`Family` of provider `pid`, from the snapshot's columns (no record decoded)."""
    start, end = snap.provider_range(pid)
    base_ids, released = snap.column("base_id"), snap.column("release_date")
    spellings: dict[str, list[str]] = {}
    latest: dict[str, str] = {}
    dated: dict[str, list[tuple[str, str, str]]] = {}
    hidden = snap.hidden
    for ordinal in range(start, end):
        spec = snap.spec_at(ordinal)
        if spec in hidden:  # a profile's exclusion is no model to resolve to
            continue
        model_id = spec.split(":", 1)[1]
        key = fold(model_id)
        spellings.setdefault(key, []).append(spec)
        base = base_ids[ordinal]
        if key.endswith(_LATEST):
            latest.setdefault(key.removesuffix(_LATEST), spec)
        elif isinstance(base, str) and base != model_id:
            dated.setdefault(fold(base), []).append((str(released[ordinal] or ""), model_id, spec))
    snapshots = {key: [spec for *_, spec in sorted(found, reverse=True)] for key, found in dated.items()}
    return Family(spellings, latest, snapshots)


def _in_family(snap: Snapshot, pid: str, model_id: str, family: Callable[[Snapshot, str], Family]) -> Resolved | None:
    """`model_id` in provider `pid` but for its spelling (`spelling`); else a `-latest` name the provider lists
    undated, an undated name it lists as `-latest`, or either listed as dated snapshots only: the newest
    (`snapshot`)."""
    if snap.provider_range(pid) == (0, 0):
        return None
    found = family(snap, pid)
    key = fold(model_id)
    same = found.spellings.get(key, ())
    if len(same) == 1:
        return Resolved(same[0], "spelling")
    base = key.removesuffix(_LATEST)
    if same:  # several spellings of one id: none is surer than another
        return None
    undated = found.spellings.get(base, ()) if base != key else ()
    if len(undated) == 1:
        return Resolved(undated[0], "snapshot", f"{pid}'s undated name")
    pointer = found.latest.get(base)
    if pointer is not None:
        return Resolved(pointer, "snapshot", f"{pid}'s -latest name")
    newest = found.snapshots.get(base)
    if newest:
        return Resolved(newest[0], "snapshot", f"the newest of {pid}'s {len(newest)} dated {base} snapshot(s)")
    return None


def _resold(text: str, maker: str, candidates: list[str]) -> Resolved:
    """A bare id of `maker`'s that neither its first-party provider nor its regional APIs list: one other
    provider is named as a reseller, several are ambiguous."""
    ordered = sorted(candidates)
    only = f"not listed by {maker} (its maker); only {', '.join(ordered[:10])}{' ...' if len(ordered) > 10 else ''}"
    if len(ordered) == 1:
        return Resolved(ordered[0], "reseller", only + " has it")
    raise AmbiguousModel(
        f"{clip(text)} is {only} have it; name the provider ('provider:model') or pass scope=", candidates=ordered
    )


def _in_provider(snap: Snapshot, pid: str, model_id: str) -> Resolved | None:
    spec = f"{pid}:{model_id}"
    if snap.ordinal(spec) is not None:
        return Resolved(spec, "provider")
    target = snap.model_alias(spec)
    if target is not None:
        return Resolved(target, "alias")
    for word in ROUTE_WORDS.get(pid, ()):
        if model_id.startswith(word):
            found = _in_provider(snap, pid, model_id[len(word) :])
            if found is not None:
                return Resolved(found.spec, "route")
    return None


def _missing(snap: Snapshot, pid: str, model_id: str, asked: str) -> ModelNotFound:
    spec = f"{pid}:{model_id}"
    origin = f" (from {clip(asked)})" if asked != spec else ""
    reason = snap.excluded.get(spec)
    if reason is not None:
        return ModelExcluded(f"{spec!r}{origin} is in upstream data but excluded by {reason}", reason=reason)
    return _not_found(f"no model {clip(spec)}{origin}", spec, snap.specs_of_provider(pid))


def _not_found(message: str, word: str, choices: Iterable[str]) -> ModelNotFound:
    """`ModelNotFound` whose message ends with the close matches it also carries as `suggestions`."""
    close = close_matches(word, choices)
    hint = "; did you mean " + ", ".join(repr(c) for c in close) + "?" if close else ""
    return ModelNotFound(message + hint, suggestions=close)


def _bare(text: str, candidates: list[str]) -> Resolved:
    if len(candidates) == 1:
        return Resolved(candidates[0], "unique")
    ordered = sorted(candidates, key=lambda s: (s.split(":", 1)[0] not in FIRST_PARTY, s))
    raise AmbiguousModel(
        f"{clip(text)} is a model id of {len(ordered)} providers: {', '.join(ordered[:10])}"
        + (" ..." if len(ordered) > 10 else "")
        + "; name the provider ('provider:model') or pass scope=",
        candidates=ordered,
    )
