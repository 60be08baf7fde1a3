"""Code overrides: a Python module that declares changes with a small API, the highest-precedence source.

# /etc/llmdb/overrides.py
from llmdbd import Overrides

overrides = Overrides()
overrides.model("openai:gpt-4o-mini", capabilities={"tools": {"streaming": False}})
overrides.exclude("cerebras:qwen-3-*")
overrides.provider("openai", env=["OPENAI_API_KEY", "OPENAI_KEY"])
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from pathlib import Path
from typing import Any

from llmdb.schema import SourceInfo
from llmdbd.engine.layer import Layer
from llmdbd.sources.fields import copy_tables
from llmdbd.sources.patches import from_doc

NAME = "code"


class Overrides:
    """Collects overrides in the shape of a patch document; later calls on one record win."""

    def __init__(self) -> None:
        self._providers: dict[str, dict[str, Any]] = {}
        self._models: list[dict[str, Any]] = []
        self._excludes: list[str] = []

    def model(self, spec: str, **fields: Any) -> None:
        """Override fields of the model `provider:id` (llmdb or models.dev field names; `"__delete__"` removes)."""
        self._models.append({"spec": spec, **copy_tables(fields)})

    def provider(self, provider_id: str, **fields: Any) -> None:
        """Override fields of a provider (`name`, `base_url`, `env`, `doc`, `npm`, `aliases`, `extra`)."""
        self._providers.setdefault(provider_id, {}).update(copy_tables(fields))

    def exclude(self, *specs: str) -> None:
        """Remove models by `provider:glob` patterns."""
        self._excludes.extend(specs)

    def to_layer(self, *, file: str | None = None, version: str | None = None) -> Layer:
        """One layer; provider overrides become one provider fragment each."""
        layer = from_doc(
            {"models": self._models, "exclude": self._excludes},
            name=NAME,
            kind="code",
            file=file,
            version=version,
        )
        for pid, fields in sorted(self._providers.items()):
            sub = from_doc({"provider": {"id": pid, **fields}}, name=NAME, kind="code")
            layer.fragments += sub.fragments
            layer.issues += sub.issues
        return layer


def load_module(path: str | Path) -> Layer:
    """Run the module at `path` and take its module-level `overrides`; any failure is a report entry."""
    path = Path(path)
    info = SourceInfo(name=NAME, kind="code", file=str(path))
    try:
        source = path.read_bytes()
        version = "sha256:" + hashlib.sha256(source).hexdigest()
        spec = importlib.util.spec_from_file_location(f"_llmdb_overrides_{version[7:19]}", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        try:
            spec.loader.exec_module(module)
        finally:
            sys.modules.pop(spec.name, None)
    except Exception as exc:  # user code: any failure is reported, never crashes the build
        layer = Layer(info=info, fragments=[], atomic=True)
        last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        line = f" (line {last[0].lineno})" if last and last[0].filename == str(path) else ""
        layer.issue("load", f"overrides module failed{line}: {type(exc).__name__}: {exc}")
        return layer
    overrides = getattr(module, "overrides", None)
    if not isinstance(overrides, Overrides):
        layer = Layer(info=info, fragments=[], atomic=True)
        layer.issue("load", "module defines no `overrides = Overrides()` at top level", field="overrides")
        return layer
    return overrides.to_layer(file=str(path), version=version)
