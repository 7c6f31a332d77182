"""The admin shows cases and their history, scoped like the API, and changes nothing: a case
moves only through the flow. Hotline caller systems can only be switched off there."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from cases import services

pytestmark = pytest.mark.django_db


def test_cases_are_shown_scoped_and_read_only(territory):
    a = services.case_report(user=territory.users["admin"], item="0201", lon=112.02, lat=32.62)
    b = services.case_report(user=territory.users["admin"], item="0201", lon=112.15, lat=32.65)
    admin = Client()
    admin.force_login(territory.users["admin"])
    listed = admin.get(reverse("admin:cases_case_changelist"))
    assert listed.status_code == 200 and a.number in listed.text and b.number in listed.text
    page = admin.get(reverse("admin:cases_case_change", args=[a.pk]))
    assert page.status_code == 200 and "report" in page.text
    assert admin.get(reverse("admin:cases_case_delete", args=[a.pk])).status_code == 403
    assert admin.get(reverse("admin:cases_case_add")).status_code == 403
    posted = admin.post(reverse("admin:cases_case_change", args=[a.pk]), {"status": "published"})
    assert posted.status_code == 403
    a.refresh_from_db()
    assert a.status == "reported"

    officer = territory.users["township_commander"]
    officer.is_staff = True
    officer.save()
    officer.user_permissions.add(Permission.objects.get(codename="view_case"))
    township = Client()
    township.force_login(officer)
    listed = township.get(reverse("admin:cases_case_changelist"))
    assert a.number in listed.text and b.number not in listed.text
    assert township.get(reverse("admin:cases_case_change", args=[b.pk])).status_code == 302


def test_a_hotline_caller_can_only_be_switched_off(territory):
    caller, _ = services.hotline_caller_create(name="12345", county_code="411381")
    admin = Client()
    admin.force_login(territory.users["admin"])
    assert admin.get(reverse("admin:cases_hotlinecaller_add")).status_code == 403
    assert (
        admin.get(reverse("admin:cases_hotlinecaller_delete", args=[caller.pk])).status_code == 403
    )
    response = admin.post(
        reverse("admin:cases_hotlinecaller_change", args=[caller.pk]),
        {"loaded_version": caller.version},
    )
    assert response.status_code == 302
    caller.refresh_from_db()
    assert not caller.active
