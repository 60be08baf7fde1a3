"""Filter stage: patch and override excludes (models removed) and allow/deny rules (models marked denied).

Globs have fnmatch semantics, case-sensitive and anchored, and are compiled once per build.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

from msgspec import Struct

from llmdb.schema import BuildIssue, canonical_provider_id

Globs = str | list[str]
"""`"*"` for every model of a provider, or a list of model-id globs."""


class Rules(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Allow/deny rules by provider. With no `allow`, every model is allowed unless denied; deny beats allow."""

    allow: dict[str, Globs] | None = None
    deny: dict[str, Globs] = {}


def compile_globs(globs: Iterable[str]) -> re.Pattern[str]:
    """One anchored, case-sensitive regex matching any of `globs`."""
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs) or r"(?!)")


def exclude(
    specs: Iterable[str], patterns: Iterable[tuple[str, str, str | None]]
) -> tuple[dict[str, str], list[BuildIssue]]:
    """Spec → the first `(pattern, source, file)` exclude (`provider:glob`) matching it, as
    `exclude 'p' (file)`, and a warning per pattern that matches nothing."""
    specs = list(specs)
    removed: dict[str, str] = {}
    issues = []
    for pattern, source, file in patterns:
        regex = compile_globs([pattern])
        hits = [s for s in specs if regex.match(s)]
        reason = f"exclude {pattern!r} ({file or source})"
        for spec in hits:
            removed.setdefault(spec, reason)
        if not hits:
            issues.append(
                BuildIssue(
                    severity="warning",
                    stage="filters",
                    message=f"exclude pattern {pattern!r} matches no model",
                    source=source,
                    file=file,
                    field="exclude",
                )
            )
    return removed, issues


def apply_rules(
    rules: Rules, specs: Iterable[tuple[str, str, str]], providers: Iterable[str]
) -> tuple[dict[str, str], list[BuildIssue]]:
    """Spec → the rule denying it, for `(spec, provider, model id)` triples; rules naming no provider are errors."""
    known = set(providers)
    issues: list[BuildIssue] = []

    def compiled(table: dict[str, Globs], kind: str) -> dict[str, tuple[re.Pattern[str], str]]:
        out = {}
        for name, globs in sorted(table.items()):
            pid = canonical_provider_id(name)
            if pid not in known:
                issues.append(
                    BuildIssue(
                        severity="error",
                        stage="filters",
                        message=f"{kind} rule names unknown provider {name!r}; the rule matches nothing",
                        provider=name,
                        field=f"{kind}.{name}",
                    )
                )
            items = [globs] if isinstance(globs, str) else globs
            out[pid] = (compile_globs(items), f"{kind} {pid}: {', '.join(items)}")
        return out

    allow = compiled(rules.allow, "allow") if rules.allow is not None else None
    deny = compiled(rules.deny, "deny")
    denied: dict[str, str] = {}
    for spec, provider, model_id in specs:
        rule = deny.get(provider)
        if rule is not None and rule[0].match(model_id):
            denied[spec] = rule[1]
        elif allow is not None:
            allowed = allow.get(provider)
            if allowed is None:
                denied[spec] = f"allow: provider {provider} is not listed"
            elif not allowed[0].match(model_id):
                denied[spec] = f"{allowed[1]} (no glob matches)"
    return denied, issues
