"""When a household is due for a visit (pure)."""

import datetime


def interval_days(flags: dict[str, bool], policy: dict[str, int]) -> int:
    """The shortest interval among the household's flags (the default when it has none)."""
    days = [policy[f] for f, on in flags.items() if on and f in policy]
    return min(days) if days else policy["default"]


def due_on(last_visit: datetime.date | None, days: int, today: datetime.date) -> datetime.date:
    """The day the next visit falls due (today when never visited)."""
    if last_visit is None:
        return today
    return last_visit + datetime.timedelta(days=days)


def is_due(last_visit, days, today) -> bool:
    return due_on(last_visit, days, today) <= today
