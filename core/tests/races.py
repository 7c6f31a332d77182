"""Two-connection race tests: wait until the other connection is blocked on a lock this one
holds, so the test proves the lock serialises the two (rather than one merely finishing
first)."""

from django.db import connection


def waiting_on_a_lock(pid: int) -> bool:
    """Whether the backend `pid` waits for a lock it has not been granted."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted)", [pid]
        )
        return cursor.fetchone()[0]


def wait_until_blocked(thread, pid_of) -> bool:
    """Polls until the connection of `thread` (its backend pid from `pid_of()`, -1 while not
    known) waits on a lock, or the thread ends; True if it was seen waiting."""
    while thread.is_alive():
        if waiting_on_a_lock(pid_of()):
            return True
        thread.join(0.01)
    return False
