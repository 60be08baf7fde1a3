"""Sources: each turns one kind of input into `Layer`s in llmdb's field names."""

from __future__ import annotations

from typing import Protocol

from llmdbd.layer import Layer


class Source(Protocol):
    """Anything that can produce layers, lowest precedence first."""

    def load(self) -> list[Layer]: ...
