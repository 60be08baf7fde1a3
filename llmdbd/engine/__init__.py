"""The build engine: layers from the sources → normalize → validate → merge → enrich → convert → filters →
catalog, one module per stage, looped over by `build`."""

from llmdbd.engine.build import STAGES, build, collector_paused, prepare
from llmdbd.engine.cache import ModelCache
from llmdbd.engine.catalog import BuiltCatalog
from llmdbd.engine.filters import Rules
from llmdbd.engine.layer import DELETE, Fragment, Layer

__all__ = [
    "DELETE",
    "STAGES",
    "BuiltCatalog",
    "Fragment",
    "Layer",
    "ModelCache",
    "Rules",
    "build",
    "collector_paused",
    "prepare",
]
