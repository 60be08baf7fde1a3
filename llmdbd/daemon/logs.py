"""structlog set-up for the daemon: JSON lines (journald-friendly) or a console renderer on a terminal.

Configured once, at the daemon's entry point; library modules only call `structlog.get_logger()`.
"""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(log_format: str = "auto") -> None:
    """`json`, `console`, or `auto` (console when stderr is a terminal)."""
    console = log_format == "console" or (log_format == "auto" and sys.stderr.isatty())
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer() if console else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
