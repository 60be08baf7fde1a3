"""What the daemon watches: the patch directories, the config file and the overrides module, as plain
functions over paths (the service loop owns the watching itself)."""

from __future__ import annotations

from pathlib import Path

from llmdbd.config import Config
from llmdbd.sources import patches

Fingerprint = list[tuple[str, int, int]]
"""(path, mtime, size) of the config file, then the overrides module and every patch file."""


def watched(config: Config, config_path: Path) -> dict[Path, str]:
    """Path to react to → what it is (`patches`, `config`, `overrides`)."""
    paths = {Path(d).absolute(): "patches" for d in config.patch_dirs}
    paths[config_path.absolute()] = "config"
    if config.overrides_module:
        paths[Path(config.overrides_module).absolute()] = "overrides"
    return paths


def roots(paths: dict[Path, str]) -> list[Path]:
    """The directories to watch (non-recursively) for `paths`: a patch directory itself, else the parent that
    will see it appear; never a far ancestor such as /etc."""
    out = set()
    for path, kind in paths.items():
        if kind == "patches" and path.is_dir():
            out.add(path)
        elif path.parent.is_dir():
            out.add(path.parent)
    return sorted(out)


def classify(changed: Path, paths: dict[Path, str]) -> str | None:
    """What a changed path is, or None when it does not matter (a hidden file, another suffix)."""
    for path, kind in paths.items():
        if kind == "patches":
            if changed.parent == path and changed.suffix in patches.SUFFIXES and not changed.name.startswith("."):
                return kind
            if changed == path:
                return kind  # the directory itself appeared or vanished
        elif changed == path:
            return kind
    return None


def fingerprint(config: Config, config_path: Path) -> Fingerprint:
    """(path, mtime, size) of every watched file, the config file first: two differing fingerprints mean
    something changed."""
    files = [config_path]
    if config.overrides_module:
        files.append(Path(config.overrides_module))
    files += patches.list_files(config.patch_dirs)[0]
    out = []
    for path in files:
        try:
            st = path.stat()
        except OSError:
            out.append((str(path), -1, -1))
            continue
        out.append((str(path), st.st_mtime_ns, st.st_size))
    return out
