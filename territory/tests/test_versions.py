"""Edit versions: a change made on a version someone else has since changed is refused (ETag and
If-Match, or "version" in the body), also when two writers race on two connections."""

import threading

import pytest
from django.db import connections, transaction
from django.urls import reverse

from core.tests.errors import refusal
from core.tests.races import wait_until_blocked
from patrols.models import IncidentCategory
from territory import services
from territory.models import Household

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_and_household(territory, api):
    return api(territory.users["village_officer"]), territory.households["A1a-south"]


def url(household):
    return reverse("api-household", args=[household.pk])


def test_get_gives_the_version_as_etag_and_patch_moves_it(officer_and_household):
    client, household = officer_and_household
    read = client.get(url(household))
    assert read.status_code == 200
    assert read["ETag"] == '"1"'
    assert read.json()["properties"]["version"] == 1
    changed = client.patch(url(household), {"members": 6}, format="json", HTTP_IF_MATCH='"1"')
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] == '"2"'
    assert changed.json()["properties"]["members"] == 6
    assert client.get(url(household))["ETag"] == '"2"'


def test_a_stale_if_match_is_412_and_keeps_the_other_change(territory, api):
    # A reads members=3 (version 1), B writes 9, A writes 7 on what it read: A is refused.
    household = territory.households["A1a-south"]
    a = api(territory.users["village_officer"])
    b = api(territory.users["grid_chief"])
    etag = a.get(url(household))["ETag"]
    written = b.patch(url(household), {"members": 9}, format="json", HTTP_IF_MATCH=etag)
    assert written.status_code == 200
    stale = a.patch(url(household), {"members": 7}, format="json", HTTP_IF_MATCH=etag)
    assert list(refusal(stale, 412, "precondition_failed")) == ["If-Match"]
    household.refresh_from_db()
    assert (household.members, household.version) == (9, 2)


def test_a_stale_version_in_the_body_is_409(officer_and_household):
    client, household = officer_and_household
    first = client.patch(url(household), {"members": 5, "version": 1}, format="json")
    assert first.status_code == 200
    stale = client.patch(url(household), {"members": 7, "version": 1}, format="json")
    assert list(refusal(stale, 409, "stale")) == ["version"]
    household.refresh_from_db()
    assert household.members == 5


def test_a_change_without_a_precondition_is_428(officer_and_household):
    client, household = officer_and_household
    response = client.patch(url(household), {"members": 7}, format="json")
    assert list(refusal(response, 428, "precondition_required")) == ["If-Match"]
    household.refresh_from_db()
    assert (household.members, household.version) == (3, 1)


@pytest.mark.parametrize("if_match", ['"x"', '"1", "2"', "1", ""])
def test_an_if_match_that_names_no_version_is_412(officer_and_household, if_match):
    client, household = officer_and_household
    response = client.patch(url(household), {"members": 7}, format="json", HTTP_IF_MATCH=if_match)
    assert response.status_code == 412
    household.refresh_from_db()
    assert household.members == 3


def test_if_match_star_and_weak_tags_are_accepted(officer_and_household):
    client, household = officer_and_household
    assert (
        client.patch(url(household), {"members": 4}, format="json", HTTP_IF_MATCH="*").status_code
        == 200
    )
    weak = client.patch(url(household), {"members": 5}, format="json", HTTP_IF_MATCH='W/"2"')
    assert weak.status_code == 200 and weak["ETag"] == '"3"'


def test_if_match_and_body_version_must_agree(officer_and_household):
    client, household = officer_and_household
    response = client.patch(
        url(household), {"members": 4, "version": 2}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 400


def test_outside_the_territory_is_404_before_any_precondition(territory, api):
    client = api(territory.users["village_officer"])
    response = client.patch(url(territory.households["B1a"]), {"members": 7}, format="json")
    assert response.status_code == 404


def test_a_save_from_an_instance_loaded_earlier_still_moves_the_version(territory):
    household = territory.households["A1a-south"]
    early = Household.objects.get(pk=household.pk)
    Household.objects.get(pk=household.pk).save()
    early.save()
    assert Household.objects.get(pk=household.pk).version == 3 == early.version


def test_every_edited_record_has_a_version():
    item = IncidentCategory.objects.filter(parent__isnull=False).first()
    before = item.version
    item.name = item.name + "!"
    item.save(update_fields=["name"])
    item.refresh_from_db()
    assert item.version == before + 1


@pytest.mark.django_db(transaction=True)
def test_two_connections_with_the_same_version_cannot_both_win(territory):
    """A holds the row (version 1 -> 2, not yet committed) while B, on its own connection,
    tries the same version 1: B must wait for A and then be refused, not write over A."""
    household = territory.households["A1a-south"]
    officer = territory.users["village_officer"]
    second = {}

    def writer_b():
        try:
            own = connections["default"]
            own.ensure_connection()
            second["pid"] = own.connection.info.backend_pid
            services.household_update(
                household=household, user=officer, expected_version=1, members=7
            )
            second["outcome"] = "written"
        except services.StaleVersion:
            second["outcome"] = "stale"
        finally:
            connections["default"].close()

    with transaction.atomic():
        services.household_update(household=household, user=officer, expected_version=1, members=9)
        b = threading.Thread(target=writer_b)
        b.start()
        # Commit only once B is blocked on A's row lock: B's check then comes after A's write.
        waiting = wait_until_blocked(b, lambda: second.get("pid", -1))
        assert waiting, second
    b.join()
    assert second["outcome"] == "stale"
    household.refresh_from_db()
    assert (household.members, household.version) == (9, 2)
