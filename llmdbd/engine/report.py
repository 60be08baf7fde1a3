"""Human-readable rendering of a `BuildReport`, for `llmdbd build` and `llmdbd check`."""

from __future__ import annotations

from llmdb.schema import BuildReport


def render(report: BuildReport, *, limit: int = 50) -> str:
    """A summary line, stage timings, then the issues (errors first), at most `limit` of them."""
    lines = [
        f"{report.models} models, {report.providers} providers, {report.denied} denied, {report.excluded} excluded; "
        f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)",
        "stages: " + ", ".join(f"{stage} {ms:.0f} ms" for stage, ms in report.stage_ms.items()),
    ]
    lines += [f"source: {s.name} ({s.kind}) {s.file or '-'} {s.version or ''}".rstrip() for s in report.sources]
    issues = [*report.errors, *report.warnings]
    lines += [str(issue) for issue in issues[:limit]]
    if len(issues) > limit:
        lines.append(f"... and {len(issues) - limit} more (use --json for all)")
    return "\n".join(lines)
