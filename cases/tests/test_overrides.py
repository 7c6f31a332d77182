"""The working-day override table: the calendar the deadlines are computed on is built from it,
and only superusers read or write it in the admin."""

from datetime import date, datetime

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from cases.models import WorkingDayOverride
from cases.selectors import working_calendar
from cases.working_time import SHANGHAI
from territory.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def test_rows_win_over_the_package():
    WorkingDayOverride.objects.create(date=date(2026, 2, 24), is_workday=False, note="台风")
    cal = working_calendar()
    assert not cal.is_workday(date(2026, 2, 24))
    # Thu 12th not counted; 13th (1), Sat 14th (2), 24th closed, 25th (3).
    assert cal.add_working_days(at(2026, 2, 12, 10), 3).at == at(2026, 2, 25, 17, 30)


def test_an_unknown_year_is_flagged_until_its_schedule_is_typed_in():
    WorkingDayOverride.objects.create(date=date(2027, 2, 8), is_workday=False, note="a closure")
    deadline = working_calendar().add_working_hours(at(2026, 12, 31, 16), 7)
    assert deadline.at == at(2027, 1, 1, 16)  # New Year's Day guessed a working day
    assert deadline.estimated
    WorkingDayOverride.objects.create(date=date(2027, 1, 1), is_workday=False, note="元旦")
    deadline = working_calendar().add_working_hours(at(2026, 12, 31, 16), 7)
    assert deadline.at == at(2027, 1, 4, 16)
    assert not deadline.estimated


def test_a_new_years_row_of_a_year_the_package_knows_changes_no_flag():
    WorkingDayOverride.objects.create(date=date(2026, 1, 1), is_workday=False)
    assert working_calendar().known_years == frozenset()


def _admin_client(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_superuser_types_in_the_schedule():
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = _admin_client(admin)
    url = reverse("admin:cases_workingdayoverride_add")
    response = client.post(url, {"date": "2027-01-01", "is_workday": "", "note": "元旦"})
    assert response.status_code == 302, response.content
    row = WorkingDayOverride.objects.get()
    assert (row.date, row.is_workday, row.note) == (date(2027, 1, 1), False, "元旦")
    listing = client.get(reverse("admin:cases_workingdayoverride_changelist"))
    assert listing.status_code == 200
    assert "year unknown to the package" in listing.content.decode()
    # The same date twice is refused, nothing written.
    again = client.post(url, {"date": "2027-01-01", "is_workday": "on", "note": ""})
    assert again.status_code == 200
    assert WorkingDayOverride.objects.count() == 1


def test_staff_who_are_not_superusers_neither_see_nor_edit_it():
    staff = UserFactory(username="staff", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="cases"))
    row = WorkingDayOverride.objects.create(date=date(2027, 1, 1), is_workday=False)
    client = _admin_client(staff)
    for url in (
        reverse("admin:cases_workingdayoverride_changelist"),
        reverse("admin:cases_workingdayoverride_add"),
        reverse("admin:cases_workingdayoverride_change", args=[row.pk]),
    ):
        assert client.get(url).status_code == 403, url
    change = reverse("admin:cases_workingdayoverride_change", args=[row.pk])
    assert client.post(change, {"date": "2027-01-01", "is_workday": "on"}).status_code == 403
    assert not WorkingDayOverride.objects.get().is_workday
    assert b"workingdayoverride" not in client.get(reverse("admin:index")).content
