"""`PatchStore`: the patch files of a build, with the last accepted version of each kept in the state directory.

A file that stops being valid keeps its last accepted version in effect (it survives restarts); a file that
was never valid is skipped. Either way the refused version is built as an empty layer carrying its errors, so
every build's report, status and log events count and name them.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from urllib.parse import quote, unquote

import msgspec

from llmdb.contract import RejectedFile
from llmdbd.engine import Layer, prepare
from llmdbd.output.files import atomic_write
from llmdbd.sources import patches

ACCEPTED = "accepted"


class PatchStore:
    """Reads the patch directories for each build and remembers the last accepted bytes of every file."""

    def __init__(self, state_dir: str | os.PathLike[str]) -> None:
        self.directory = Path(state_dir) / ACCEPTED
        self.accepted: dict[str, bytes] = {}
        self.rejected: dict[str, RejectedFile] = {}

    def load(self) -> None:
        """Create the store's directory and read what earlier runs accepted."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for path in self.directory.iterdir():
            with contextlib.suppress(OSError):
                self.accepted[unquote(path.name)] = path.read_bytes()

    def layers(self, patch_dirs: list[str]) -> tuple[list[Layer], list[RejectedFile]]:
        """The prepared layers of every patch file in apply order, and the rejections new since the last call."""
        files, layers = patches.list_files(patch_dirs)
        fresh: list[RejectedFile] = []
        for path in files:
            key = str(path)
            data: bytes | None = None
            try:
                raw = path.read_bytes()
            except OSError as exc:  # vanished or unreadable between listing and reading
                layer = patches.unreadable(path, exc)
            else:
                data, layer = raw, patches.load_data(raw, path)
            errors = [str(i) for i in prepare(layer).issues if i.severity == "error"]
            if data is not None and not errors:
                self.rejected.pop(key, None)
                if self.accepted.get(key) != data:
                    self._accept(key, data)
                layers.append(layer)
                continue
            layers.append(layer)  # empty: carries the errors into the report
            previous = self.accepted.get(key)
            if previous is not None:
                kept = patches.load_data(previous, path)
                kept.info = msgspec.structs.replace(kept.info, name=f"{kept.info.name} (last accepted)")
                layers.append(prepare(kept))
            keeping = (
                f"last accepted version ({kept.info.version})" if previous is not None else "nothing: never accepted"
            )
            rejection = RejectedFile(file=key, errors=errors, keeping=keeping)
            if self.rejected.get(key) != rejection:
                fresh.append(rejection)
            self.rejected[key] = rejection
        live = {str(p) for p in files}
        for key in [k for k in self.accepted if k not in live]:
            self._forget(key)
        for key in [k for k in self.rejected if k not in live]:
            del self.rejected[key]
        return layers, fresh

    def _accept(self, key: str, data: bytes) -> None:
        self.accepted[key] = data
        atomic_write(self.directory / quote(key, safe=""), data)

    def _forget(self, key: str) -> None:
        del self.accepted[key]
        with contextlib.suppress(OSError):
            (self.directory / quote(key, safe="")).unlink()
