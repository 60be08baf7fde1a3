"""sd_notify without libsystemd: datagrams to `$NOTIFY_SOCKET` (`READY=1`, `STATUS=...`, `WATCHDOG=1`, ...)."""

from __future__ import annotations

import os
import socket


def send(message: str, env: dict[str, str] | None = None) -> bool:
    """Send one notification; False when not run by systemd (no `NOTIFY_SOCKET`) or the send failed."""
    address = (env if env is not None else os.environ).get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(message.encode(), address)
    except OSError:
        return False
    return True


def watchdog_interval(env: dict[str, str] | None = None) -> float | None:
    """Seconds between `WATCHDOG=1` pings (half of `$WATCHDOG_USEC`), or None when no watchdog is asked for."""
    env = env if env is not None else dict(os.environ)
    usec, pid = env.get("WATCHDOG_USEC"), env.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 2 / 1_000_000
    except ValueError:
        return None


async def watchdog(interval: float) -> None:
    """Ping systemd's watchdog every `interval` seconds, forever (a task of the service loop)."""
    import anyio  # the daemon's dependency; this module stays importable without it

    while True:
        send("WATCHDOG=1")
        await anyio.sleep(interval)
