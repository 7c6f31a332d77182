import datetime

from patrols.policy import due_on, interval_days, is_due

POLICY = {"elderly_living_alone": 7, "key_attention": 14, "default": 30}
TODAY = datetime.date(2026, 11, 22)


def test_the_shortest_interval_of_a_household_flags_applies():
    assert interval_days({"elderly_living_alone": True, "key_attention": True}, POLICY) == 7
    assert interval_days({"key_attention": True, "low_income": True}, POLICY) == 14
    assert interval_days({"elderly_living_alone": False}, POLICY) == 30


def test_due_dates():
    assert due_on(None, 7, TODAY) == TODAY  # never visited: due now
    assert due_on(datetime.date(2026, 11, 10), 7, TODAY) == datetime.date(2026, 11, 17)
    assert is_due(datetime.date(2026, 11, 15), 7, TODAY)
    assert not is_due(datetime.date(2026, 11, 16), 7, TODAY)
