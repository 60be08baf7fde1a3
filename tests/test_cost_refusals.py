"""Never a silent $0, never an absurd total: `llmdb.cost` and `llmdb cost` refuse a request with nothing in it (no
usage, a stream's `usage: null`, counts all 0) and counts past `MAX_TOKENS`, with `InvalidUsage` naming the count
(docs/cost.md), and the CLI exits 2 with one line and no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openai.types.chat import ChatCompletionChunk

import llmdb
from llmdb._usage import MAX_SECONDS, MAX_TOKENS

SPEC = "openai:gpt-4o"
HUGE = 99999999999999999999999
STREAM_CHUNK = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1767225600,
    "model": "gpt-4o-2024-08-06",
    "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}],
    "usage": None,
}
"""A Chat Completions stream chunk as sent without stream_options={"include_usage": True}."""


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmdb.cli", "--snapshot", str(llmdb.packaged_path()), *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
    )


def refused(call: Callable[[], Any]) -> str:
    """The one-line message of the `InvalidUsage` that `call` raises."""
    with pytest.raises(llmdb.InvalidUsage) as raised:
        call()
    message = str(raised.value)
    assert "\n" not in message
    return message


# --- nothing to price -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: llmdb.cost(SPEC),
        lambda: llmdb.cost(SPEC, usage=None),
        lambda: llmdb.cost(SPEC, None),
        lambda: llmdb.cost(SPEC, usage=ChatCompletionChunk.model_validate(STREAM_CHUNK).usage),
        lambda: llmdb.cost(SPEC, usage=STREAM_CHUNK["usage"]),
        lambda: llmdb.cost(SPEC, input_tokens=0, output_tokens=0),
        lambda: llmdb.cost(SPEC, usage=None, input_tokens=0, web_searches=0),
    ],
    ids=["no-usage", "usage-None", "positional-None", "sdk-chunk-usage", "dict-chunk-usage", "zeros", "None-zeros"],
)
def test_no_usage_and_no_count_is_refused_not_priced_at_0(call: Callable[[], Any]) -> None:
    message = refused(call)
    assert message.startswith("nothing to price") and "include_usage" in message


@pytest.mark.parametrize("chunk", [STREAM_CHUNK, ChatCompletionChunk.model_validate(STREAM_CHUNK)], ids=["dict", "sdk"])
def test_a_whole_stream_chunk_without_usage_is_refused(chunk: Any) -> None:
    assert "include_usage" in refused(lambda: llmdb.cost(SPEC, usage=chunk))
    assert "include_usage" in refused(lambda: llmdb.usage(chunk))


def test_usage_of_none_names_the_stream_option() -> None:
    message = refused(lambda: llmdb.usage(None))
    assert "got None" in message and "include_usage" in message


def test_usage_None_beside_counts_prices_the_counts() -> None:
    """The CLI's path without --usage: None and the counts given."""
    beside = llmdb.cost(SPEC, None, input_tokens=1_000, output_tokens=100)
    assert beside.total == llmdb.cost(SPEC, input_tokens=1_000, output_tokens=100).total > 0
    whisper = llmdb.cost("openai:whisper-1", usage=None, audio_seconds=90)
    assert whisper.total == llmdb.cost("openai:whisper-1", audio_seconds=90).total > 0
    assert set(whisper.per_unit) == {"audio_seconds"}


def test_a_response_whose_usage_reads_0_is_priced_0() -> None:
    """The API said 0: that is a count, not a missing usage."""
    b = llmdb.cost(SPEC, usage={"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0})
    assert b.total == 0.0 and b.usage.api == "openai-chat"


# --- absurd counts ----------------------------------------------------------------------------------------------


def test_the_limit_itself_is_priced_and_one_more_is_refused() -> None:
    at_limit = llmdb.cost(SPEC, input_tokens=MAX_TOKENS)
    assert at_limit.total == pytest.approx(MAX_TOKENS * llmdb.get(SPEC).cost.input / 1e6)  # type: ignore[union-attr]
    message = refused(lambda: llmdb.cost(SPEC, input_tokens=MAX_TOKENS + 1))
    assert message.startswith(f"usage input_tokens: {MAX_TOKENS + 1} ") and "10**15" in message


@pytest.mark.parametrize(
    ("counts", "named"),
    [
        ({"input_tokens": HUGE}, "input_tokens"),
        ({"input_tokens": 10, "output_tokens": HUGE}, "output_tokens"),
        ({"input_tokens": HUGE, "cache_read_tokens": HUGE}, "input_tokens"),
        ({"input_tokens": 10, "web_searches": 10**16}, "web_searches"),
        ({"characters": 10**16}, "characters"),
        ({"input_tokens": float(HUGE)}, "input_tokens"),
        ({"audio_seconds": MAX_SECONDS * 10}, "audio_seconds"),
    ],
    ids=["input", "output", "cached", "web-searches", "characters", "float", "seconds"],
)
def test_a_count_past_the_limit_is_refused_naming_it(counts: dict[str, Any], named: str) -> None:
    message = refused(lambda: llmdb.cost(SPEC, **counts))
    assert message.startswith(f"usage {named}: ") and "limit" in message


@pytest.mark.parametrize(
    ("usage", "named"),
    [
        ({"prompt_tokens": HUGE, "completion_tokens": 1}, "prompt_tokens"),
        ({"prompt_tokens": 10, "completion_tokens": 1e20}, "completion_tokens"),
        ({"usageMetadata": {"promptTokenCount": 10**16, "candidatesTokenCount": 1}}, "promptTokenCount"),
        # each count within the limit, their sum (Anthropic's input + cache reads + writes) past it
        (
            {"input_tokens": MAX_TOKENS, "cache_read_input_tokens": MAX_TOKENS, "output_tokens": 1},
            "input_tokens",
        ),
        (llmdb.Usage(input_tokens=HUGE), "input_tokens"),
    ],
    ids=["openai-chat", "float", "gemini", "anthropic-sum", "Usage"],
)
def test_a_response_with_a_count_past_the_limit_is_refused_naming_it(usage: Any, named: str) -> None:
    message = refused(lambda: llmdb.cost(SPEC, usage=usage))
    assert named in message.split(":")[0] and "limit" in message


# --- the CLI: exit 2, one line, no traceback --------------------------------------------------------------------


def assert_refused(out: subprocess.CompletedProcess[str], *said: str) -> None:
    assert out.returncode == 2, out
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("llmdb: ") and "Traceback" not in out.stderr, out.stderr
    for text in said:
        assert text in lines[0], (text, lines[0])


def test_cli_refuses_a_usage_file_holding_null(tmp_path: Path) -> None:
    null = tmp_path / "usage.json"
    null.write_text("null\n")
    assert_refused(run("cost", SPEC, "--usage", str(null)), "nothing to price", "include_usage")
    assert_refused(run("cost", SPEC, "--usage", "-", stdin="null"), "nothing to price")


def test_cli_refuses_a_stream_chunk_without_usage(tmp_path: Path) -> None:
    chunk = tmp_path / "chunk.json"
    chunk.write_text(json.dumps(STREAM_CHUNK))
    assert_refused(run("cost", SPEC, "--usage", str(chunk)), "has no usage", "include_usage")


@pytest.mark.parametrize(
    "args", [(), ("--input-tokens", "0", "--output-tokens", "0")], ids=["no-counts", "zero-counts"]
)
def test_cli_refuses_no_counts(args: tuple[str, ...]) -> None:
    assert_refused(run("cost", SPEC, *args), "nothing to price")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--input-tokens", str(HUGE)), "usage input_tokens: 99999999999999999999999"),
        (("--input-tokens", "10", "--output-tokens", str(MAX_TOKENS + 1)), f"usage output_tokens: {MAX_TOKENS + 1}"),
        (("--input-tokens", "10", "--web-searches", str(HUGE)), "usage web_searches"),
    ],
    ids=["input", "output", "web-searches"],
)
def test_cli_refuses_a_count_past_the_limit(args: tuple[str, ...], named: str) -> None:
    assert_refused(run("cost", SPEC, *args), named, "10**15")


def test_cli_refuses_a_usage_file_with_a_count_past_the_limit(tmp_path: Path) -> None:
    usage = tmp_path / "usage.json"
    usage.write_text(json.dumps({"prompt_tokens": HUGE, "completion_tokens": 3}))
    assert_refused(run("cost", SPEC, "--usage", str(usage)), "usage field prompt_tokens", "10**15")


def test_cli_prices_the_limit_itself() -> None:
    out = run("cost", SPEC, "--input-tokens", str(MAX_TOKENS), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["total"] == llmdb.cost(SPEC, input_tokens=MAX_TOKENS).total
