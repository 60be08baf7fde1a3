"""llmdbd: builds the llmdb catalog from upstream data, patch files and overrides, and publishes snapshots."""

__version__ = "0.1.0"

from llmdbd.sources.overrides import Overrides

__all__ = ["Overrides", "__version__"]
