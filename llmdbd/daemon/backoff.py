"""How long to wait before trying again after `failures` failures in a row, for every retry loop of the daemon
(upstream polls, uploads, a followed leader): doubling from 1 s up to `cap`, with jitter so that a fleet of
daemons that failed together does not retry together."""

from __future__ import annotations

import random


def backoff(failures: int, cap: float) -> float:
    """Seconds: 2^(failures-1), at most `cap`, times a random factor in [0.5, 1]."""
    return min(cap, 2.0 ** min(max(failures, 1) - 1, 16)) * random.uniform(0.5, 1.0)
