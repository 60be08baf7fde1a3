"""Human-readable rendering of a `BuildReport`, for `llmdbd build` and `llmdbd check`."""

from __future__ import annotations

from llmdb.schema import BuildIssue, BuildReport


def render(report: BuildReport, *, limit: int = 50) -> str:
    """A summary line, stage timings, then the issues (errors first), at most `limit` of them."""
    lines = [
        f"{report.models} models, {report.providers} providers, {report.denied} denied, {report.excluded} excluded; "
        f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)",
        "stages: " + ", ".join(f"{stage} {ms:.0f} ms" for stage, ms in report.stage_ms.items()),
    ]
    lines += [f"source: {s.name} ({s.kind}) {s.file or '-'} {s.version or ''}".rstrip() for s in report.sources]
    issues = ordered(report)
    lines += [str(issue) for issue in issues[:limit]]
    if len(issues) > limit:
        lines.append(f"... and {len(issues) - limit} more (use --json for all)")
    return "\n".join(lines)


def ordered(report: BuildReport) -> list[BuildIssue]:
    """Errors, then warnings; within each, the operator's own files (patches, config, code overrides) before the
    upstream catalogs', whose warnings run to hundreds: what a short list (this report's first 50, a daemon
    event's first few) must not push out is a typo in a patch."""
    upstream = {s.name for s in report.sources if s.kind == "upstream"}

    def rank(issue: BuildIssue) -> tuple[int, int]:
        return (issue.severity != "error", issue.source is None or issue.source in upstream)

    return sorted(report.issues, key=rank)
