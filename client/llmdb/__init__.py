"""llmdb: the catalog of LLM models (limits, prices, capabilities), read from a memory-mapped snapshot."""

from llmdb.schema import SCHEMA_VERSION, Capabilities, Cost, CostTier, Limits, Modalities, Model, Provider

__version__ = "0.1.0"

__all__ = [
    "SCHEMA_VERSION",
    "Capabilities",
    "Cost",
    "CostTier",
    "Limits",
    "Modalities",
    "Model",
    "Provider",
    "__version__",
]
