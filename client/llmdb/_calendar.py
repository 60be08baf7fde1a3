"""Lifecycle by the calendar: a model past its deprecation date reads deprecated, past its retirement date
retired, on the day the reading process asks, not the day the catalog was built (docs/names.md, "Lifecycle").

`today` is the one clock: replace it (`llmdb._calendar.today = lambda: "2027-01-01"`) to move it in a test."""

from __future__ import annotations

import datetime
import time

import msgspec

from llmdb.errors import InvalidQuery
from llmdb.schema import Model


def today() -> str:
    """Today's date in UTC, ISO (`2026-12-07`): what lifecycle dates are compared with."""
    return time.strftime("%Y-%m-%d", time.gmtime())


def day_of(at: str | datetime.date | None) -> str:
    """The day `at=` asks about, ISO (`2025-06-01`, or a `date`/`datetime`: its date); today for None.
    `InvalidQuery` for anything else."""
    if at is None:
        return today()
    if isinstance(at, datetime.datetime) and at.tzinfo is not None:
        return at.astimezone(datetime.UTC).date().isoformat()  # the calendar is UTC
    if isinstance(at, datetime.date):
        return at.isoformat()[:10]
    try:
        if isinstance(at, str) and len(at) == 10:
            return datetime.date.fromisoformat(at).isoformat()
    except ValueError:
        pass
    raise InvalidQuery(f"at={at!r}: expected a date (YYYY-MM-DD)")


def status_on(model: Model, day: str) -> str:
    """`model`'s status on `day`: `retired` once its retirement date is reached, `deprecated` once its deprecation
    date is (a partial date, `2025-04`, counts from its first day), else as built."""
    life = model.lifecycle
    if model.status == "retired" or (life.retirement_date is not None and life.retirement_date <= day):
        return "retired"
    if life.deprecation_date is not None and life.deprecation_date <= day:
        return "deprecated"
    return model.status


def as_of(model: Model, day: str | None = None) -> Model:
    """`model` as it stands on `day` (default today: asked only of a model that has a date) (`status_on`, and
    `deprecated` set with it); the same object when nothing changed (most models: no date at all)."""
    life = model.lifecycle
    if life.deprecation_date is None and life.retirement_date is None:
        return model
    status = status_on(model, day if day is not None else today())
    deprecated = model.deprecated or status in ("deprecated", "retired")
    if status == model.status and deprecated == model.deprecated:
        return model
    return msgspec.structs.replace(model, status=status, deprecated=deprecated)
