"""`[upstreams.<name>]` tables: every upstream's settings by its registry name, precedence in `[upstreams]`;
the older `upstreams = [...]`, `[upstream]` and `[litellm]` forms still read, each with a warning naming the
new form; every mistake named by file and key."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from llmdbd.config import ConfigDeprecation, load
from llmdbd.errors import ConfigError
from llmdbd.sources.upstreams import DEFAULT_PRECEDENCE, UPSTREAMS


def config_from(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> tuple[object, list[str]]:
    path = tmp_path / "llmdbd.toml"
    path.write_text(text)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config, _ = load(path, env or {})
    return config, [str(w.message) for w in caught if issubclass(w.category, ConfigDeprecation)]


def test_each_upstream_has_a_table_by_name_and_precedence_is_listed(tmp_path: Path) -> None:
    config, said = config_from(
        tmp_path,
        '[upstreams]\nprecedence = ["litellm", "models.dev"]\n'
        '[upstreams."models.dev"]\npoll_interval = 60\n'
        '[upstreams.litellm]\nurl = "https://example.org/map.json"\nmax_shrink = 0.9\n',
    )
    assert said == []
    assert config.upstreams == ["litellm", "models.dev"]  # type: ignore[attr-defined]
    assert config.settings("models.dev").poll_interval == 60  # type: ignore[attr-defined]
    litellm = config.settings("litellm")  # type: ignore[attr-defined]
    assert litellm.url == "https://example.org/map.json" and litellm.max_shrink == 0.9
    assert config.settings("models.dev").url == UPSTREAMS["models.dev"].default_url  # type: ignore[attr-defined]


def test_tables_without_precedence_use_the_default_order(tmp_path: Path) -> None:
    config, said = config_from(tmp_path, "[upstreams.litellm]\npoll_interval = 5\n")
    assert said == [] and config.upstreams == list(DEFAULT_PRECEDENCE)  # type: ignore[attr-defined]
    assert config.settings("litellm").poll_interval == 5  # type: ignore[attr-defined]


def test_the_older_tables_still_read_with_a_warning_naming_the_new_form(tmp_path: Path) -> None:
    config, said = config_from(
        tmp_path, 'upstreams = ["models.dev"]\n[upstream]\npoll_interval = 7\n[litellm]\nmax_shrink = 0.3\n'
    )
    assert config.upstreams == ["models.dev"]  # type: ignore[attr-defined]
    assert config.settings("models.dev").poll_interval == 7  # type: ignore[attr-defined]
    assert config.settings("litellm").max_shrink == 0.3  # type: ignore[attr-defined]
    assert len(said) == 2
    assert '[upstream] is deprecated: write [upstreams."models.dev"]' in said[0]
    assert "[litellm] is deprecated: write [upstreams.litellm]" in said[1]


def test_variables_set_an_upstream_by_name_and_the_older_ones_warn(tmp_path: Path) -> None:
    config, said = config_from(
        tmp_path,
        "",
        {
            "LLMDBD_UPSTREAMS_MODELS_DEV_POLL_INTERVAL": "11",
            "LLMDBD_LITELLM_MAX_SHRINK": "0.4",
            "LLMDBD_UPSTREAMS": "models.dev",
        },
    )
    assert config.settings("models.dev").poll_interval == 11  # type: ignore[attr-defined]
    assert config.settings("litellm").max_shrink == 0.4  # type: ignore[attr-defined]
    assert config.upstreams == ["models.dev"]  # type: ignore[attr-defined]
    assert said == [
        "environment variable LLMDBD_LITELLM_MAX_SHRINK is deprecated: set LLMDBD_UPSTREAMS_LITELLM_MAX_SHRINK"
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[upstreams.nope]\nurl = "https://x.org"\n',
            "key 'upstreams.nope': unknown upstream (known: models.dev, litellm",
        ),
        (
            '[upstream]\npoll_interval = 1\n[upstreams."models.dev"]\npoll_interval = 2\n',
            '[upstream] and [upstreams."models.dev"] both set models.dev: keep one',
        ),
        (
            '[upstreams."models.dev"]\npoll_interval = "soon"\n',
            "key 'upstreams.\"models.dev\".poll_interval': Expected `float`",
        ),
        ("[upstreams.litellm]\nmax_shrink = 2.0\n", "key 'upstreams.litellm.max_shrink': must be in (0, 1]"),
        ('[upstreams]\nprecedence = ["models.dev", "x"]\n', "key 'upstreams.precedence': unknown upstream 'x'"),
        ('[upstream]\nurl = "ftp://x"\n', "key 'upstream.url': 'ftp://x' is not an http(s) URL"),
    ],
)
def test_mistakes_are_named_by_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from(tmp_path, text)
    assert str(tmp_path / "llmdbd.toml") in str(caught.value) and message in str(caught.value), str(caught.value)
