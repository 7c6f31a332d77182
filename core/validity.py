"""When a boundary version holds. Versions carry instants (valid_from inclusive, valid_to
exclusive) so that a re-division committed and reverted within one day keeps a clean history;
users still speak in dates. A date given as "valid from" means the start of that day, and
"as of" a date means the state at the end of that day (after that day's changes), both in the
server's time zone."""

import datetime

from django.utils import timezone


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def start_of(when: datetime.date | datetime.datetime | None) -> datetime.datetime:
    """The instant a version given `when` begins (now when None)."""
    if when is None:
        return timezone.now()
    if isinstance(when, datetime.datetime):
        return when if timezone.is_aware(when) else timezone.make_aware(when)
    return _local_midnight(when)


def as_of_instant(when: datetime.date | datetime.datetime) -> datetime.datetime:
    """The instant whose state `as of when` describes."""
    if isinstance(when, datetime.datetime):
        return when if timezone.is_aware(when) else timezone.make_aware(when)
    return _local_midnight(when + datetime.timedelta(days=1)) - datetime.timedelta(microseconds=1)
