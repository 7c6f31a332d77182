"""Every status of the case flow maps to the spec's open or closed."""

import pytest

from cases.flow import TERMINAL, Status
from open311.status import case_statuses, open311_status

CLOSED = {"verified", "published", "rejected", "cancelled", "merged"}


@pytest.mark.parametrize("status", list(Status))
def test_every_status_is_open_or_closed(status):
    assert open311_status(status.value) == ("closed" if status.value in CLOSED else "open")


def test_every_terminal_status_is_closed_and_handled_stays_open_for_rework():
    assert all(open311_status(s) == "closed" for s in TERMINAL)
    assert open311_status("handled") == "open"


def test_the_filters_cover_every_status_once():
    assert case_statuses("open") | case_statuses("closed") == set(Status)
    assert not case_statuses("open") & case_statuses("closed")


def test_an_unknown_status_is_refused_not_guessed():
    with pytest.raises(ValueError):
        open311_status("lost")
