"""The waits between attempts (pure: no database)."""

import random

import pytest

from notifications.backoff import retry_delay


def test_the_wait_doubles_and_is_jittered_within_its_upper_half():
    rand = random.Random(1)
    for attempts, step in [(1, 30), (2, 60), (3, 120), (4, 240)]:
        waits = {retry_delay(attempts, base_s=30, cap_s=3600, rand=rand) for _ in range(50)}
        seconds = [w.total_seconds() for w in waits]
        assert all(step / 2 <= s <= step for s in seconds), (attempts, seconds)
        assert len(waits) > 1  # jittered, not one fixed instant for every message


def test_the_wait_is_capped_even_after_many_attempts():
    wait = retry_delay(200, base_s=30, cap_s=3600, rand=random.Random(2))
    assert 1800 <= wait.total_seconds() <= 3600


def test_a_retry_follows_an_attempt():
    with pytest.raises(ValueError):
        retry_delay(0, base_s=30, cap_s=3600)
