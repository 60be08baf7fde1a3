"""Filter stage: excludes remove models, allow/deny rules mark them denied."""

from __future__ import annotations

from llmdbd.engine.filters import Rules, apply_rules, compile_globs, exclude

SPECS = [
    ("openai:gpt-4o", "openai", "gpt-4o"),
    ("openai:gpt-4o-mini", "openai", "gpt-4o-mini"),
    ("openai:o1-preview", "openai", "o1-preview"),
    ("anthropic:claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5"),
    ("google_vertex:claude-sonnet-4-5@20250929", "google_vertex", "claude-sonnet-4-5@20250929"),
]
PROVIDERS = ["openai", "anthropic", "google_vertex"]


def test_globs_are_anchored_and_case_sensitive() -> None:
    regex = compile_globs(["gpt-4o*"])
    assert regex.match("gpt-4o-mini") and not regex.match("xgpt-4o") and not regex.match("GPT-4o")
    assert compile_globs(["gpt-4o"]).match("gpt-4o-mini") is None


def test_no_rules_allow_everything() -> None:
    denied, issues = apply_rules(Rules(), SPECS, PROVIDERS)
    assert denied == {} and issues == []


def test_allow_lists_providers_and_globs() -> None:
    denied, _ = apply_rules(Rules(allow={"openai": ["gpt-*"], "google-vertex": "*"}), SPECS, PROVIDERS)
    assert set(denied) == {"openai:o1-preview", "anthropic:claude-sonnet-4-5"}
    assert "not listed" in denied["anthropic:claude-sonnet-4-5"]


def test_deny_beats_allow() -> None:
    rules = Rules(allow={"openai": "*"}, deny={"openai": ["*-mini", "*-preview"]})
    denied, _ = apply_rules(rules, SPECS, PROVIDERS)
    assert denied["openai:gpt-4o-mini"] == "deny openai: *-mini, *-preview"
    assert "openai:gpt-4o" not in denied


def test_a_rule_for_an_unknown_provider_is_an_error_not_allow_everything() -> None:
    denied, issues = apply_rules(Rules(allow={"opneai": "*"}), SPECS, PROVIDERS)
    assert len(denied) == len(SPECS)
    (issue,) = issues
    assert issue.severity == "error" and issue.field == "allow.opneai" and "unknown provider" in issue.message


def test_exclude_removes_matches_and_warns_on_unused_patterns() -> None:
    specs = [s for s, _, _ in SPECS]
    patterns = [("openai:gpt-4o*", "patch:a.json", "a.json"), ("cerebras:qwen-3-*", "patch:b.json", "b.json")]
    removed, issues = exclude(specs, patterns)
    assert removed == {s: "exclude 'openai:gpt-4o*' (a.json)" for s in ("openai:gpt-4o", "openai:gpt-4o-mini")}
    (issue,) = issues
    assert issue.severity == "warning" and issue.file == "b.json" and "qwen-3-*" in issue.message
