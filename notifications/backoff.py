"""When to try a message again (pure: no database)."""

import random
from datetime import timedelta


def retry_delay(
    attempts: int, *, base_s: float, cap_s: float, rand: random.Random | None = None
) -> timedelta:
    """The wait after `attempts` failed attempts: base, 2 x base, 4 x base ... capped, each
    drawn at random between half and all of it ("equal jitter"), so that the messages of one
    gateway outage do not all come back in the same second, yet a retry never comes sooner
    than half its step."""
    if attempts < 1:
        raise ValueError("a retry follows at least one failed attempt")
    step = min(cap_s, base_s * 2 ** min(attempts - 1, 32))
    return timedelta(seconds=step / 2 + (rand or random).uniform(0, step / 2))
