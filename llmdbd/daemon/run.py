"""`llmdbd run`'s entry point: configuration, logging and the state directory, then the service loop."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import anyio
import structlog

from llmdbd.config import load
from llmdbd.daemon.fleet import Fleet
from llmdbd.daemon.logs import configure_logging
from llmdbd.daemon.rebuild import Rebuilder
from llmdbd.daemon.service import Service
from llmdbd.errors import ConfigError, StateDirBusy
from llmdbd.output import lock

log = structlog.get_logger("llmdbd")


def main(config_path: str | None, flags: dict[str, Any]) -> int:
    """Load the configuration (refusing a bad one), prepare the state directory, then run until stopped."""
    try:
        config, file = load(config_path, dict(os.environ), flags)
    except ConfigError as exc:
        configure_logging("auto")
        log.error("config_rejected", error=str(exc))
        return 2
    configure_logging(config.log_format)
    log.info("starting", config=str(file) if file else None, state_dir=config.state_dir, patch_dirs=config.patch_dirs)
    try:
        held = lock.hold(config.state_dir, "llmdbd run")  # for the process's lifetime: the kernel drops it at exit
    except StateDirBusy as exc:
        log.error("state_dir_busy", state_dir=config.state_dir, error=str(exc))
        return 2
    except OSError as exc:
        log.error("state_dir_unusable", state_dir=config.state_dir, error=exc.strerror or str(exc))
        return 2
    with held:
        try:
            fleet = Fleet(config, Path(config.state_dir))  # before the first build: a follower starts from its file
            rebuilder = Rebuilder(config, file, base=fleet.follower, fleet=fleet)
            rebuilder.prepare()
        except OSError as exc:
            log.error("state_dir_unusable", state_dir=config.state_dir, error=exc.strerror or str(exc))
            return 2
        with contextlib.suppress(KeyboardInterrupt):
            anyio.run(Service(rebuilder, fleet, config_path, flags).run)
    return 0
