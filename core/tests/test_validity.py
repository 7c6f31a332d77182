import datetime
from zoneinfo import ZoneInfo

from core.validity import as_of_instant, start_of

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_date_starts_at_local_midnight():
    assert start_of(datetime.date(2025, 6, 1)) == datetime.datetime(2025, 6, 1, tzinfo=SHANGHAI)


def test_as_of_a_date_is_the_state_at_the_end_of_that_day():
    instant = as_of_instant(datetime.date(2025, 6, 1))
    assert instant < datetime.datetime(2025, 6, 2, tzinfo=SHANGHAI)
    assert instant > datetime.datetime(2025, 6, 1, 23, 59, 59, tzinfo=SHANGHAI)


def test_instants_pass_through_and_naive_ones_are_read_as_local():
    aware = datetime.datetime(2025, 6, 1, 8, tzinfo=datetime.UTC)
    assert start_of(aware) is aware and as_of_instant(aware) is aware
    naive = datetime.datetime(2025, 6, 1, 8)
    assert start_of(naive) == datetime.datetime(2025, 6, 1, 8, tzinfo=SHANGHAI)
