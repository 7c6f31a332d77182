"""The admin gives staff who are not superusers no more than the API: their territory only,
names and phones masked where their roles mask them, and no role or login management. Every
change form refuses to save over a change made since it was opened."""

import datetime
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.contrib.gis.geos import LineString, Point
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patrols.models import Track, TrackFix, VisitPolicy
from territory import privacy
from territory.models import Household, RoleAssignment, Unit
from territory.services import role_assign
from territory.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_commander(territory):
    """The township commander of 411381001, staff with every permission of the three apps."""
    user = territory.users["township_commander"]
    user.is_staff = True
    user.save()
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["territory", "patrols", "accounts"])
    )
    client = Client()
    client.force_login(user)
    return client


def change_url(obj):
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def list_url(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_household_list_is_the_territory_with_names_and_phones_masked(territory, staff_commander):
    page = staff_commander.get(list_url(Household))
    assert page.status_code == 200
    text = page.content.decode()
    for key, household in territory.households.items():
        assert (household.address in text) == (key != "B1a"), key
        assert household.head_name not in text
        assert household.head_phone not in text
        if key != "B1a":
            assert privacy.mask_name(household.head_name) in text
            assert privacy.mask_phone(household.head_phone) in text


def test_household_change_page_masks_and_has_no_personal_inputs(territory, staff_commander):
    household = territory.households["A1a-south"]
    page = staff_commander.get(change_url(household))
    assert page.status_code == 200
    text = page.content.decode()
    assert household.address in text
    assert household.head_name not in text and household.head_phone not in text
    assert privacy.mask_name(household.head_name) in text
    assert 'name="head_name"' not in text and 'name="head_phone"' not in text
    # A commander reads households but does not write them (as over the API).
    staff_commander.post(change_url(household), {"head_name": "改名", "address": "改址"})
    household.refresh_from_db()
    assert household.head_name != "改名" and household.address != "改址"


def test_other_townships_household_is_not_found(territory, staff_commander):
    other = territory.households["B1a"]
    for url in (change_url(other), change_url(other).replace("change/", "history/")):
        page = staff_commander.get(url, follow=True)
        text = page.content.decode()
        assert page.status_code == 404 or "doesn’t exist" in text
        assert other.address not in text and other.head_name not in text


def _track(worker, grid, x):
    now = timezone.now()
    track = Track.objects.create(
        worker=worker,
        client_id=uuid.uuid4(),
        started_at=now - datetime.timedelta(minutes=5),
        ended_at=now,
        path=LineString((x, 32.65), (x + 0.001, 32.65), srid=4326),
    )
    TrackFix.objects.create(
        track=track, recorded_at=now, location=Point(x, 32.65, srid=4326), grid=grid
    )
    return track


def test_tracks_and_role_assignments_of_other_townships_are_absent(territory, staff_commander):
    b_worker = UserFactory(username="b_worker")
    role_assign(user=b_worker, role="grid_worker", unit_code="411381101201001")
    grid_a = Unit.objects.get(code="411381001001001")
    grid_b = Unit.objects.get(code="411381101201001")
    mine = _track(territory.users["grid_worker"], grid_a, 112.02)
    theirs = _track(b_worker, grid_b, 112.15)

    tracks = staff_commander.get(list_url(Track)).content.decode()
    assert change_url(mine) in tracks and change_url(theirs) not in tracks
    assert staff_commander.get(change_url(theirs), follow=True).context.get("original") is None

    roles = staff_commander.get(list_url(RoleAssignment)).content.decode()
    b_assignment = RoleAssignment.objects.get(user=b_worker)
    a_assignment = RoleAssignment.objects.get(user=territory.users["grid_worker"])
    assert change_url(a_assignment) in roles
    assert change_url(b_assignment) not in roles and "b_worker" not in roles


def test_staff_cannot_assign_roles_or_manage_logins(territory, staff_commander):
    commander = territory.users["township_commander"]
    add = reverse("admin:territory_roleassignment_add")
    response = staff_commander.post(
        add, {"user": commander.pk, "role": "village_officer", "unit_code": "411381001001"}
    )
    assert response.status_code == 403
    assert not RoleAssignment.objects.filter(user=commander, role="village_officer").exists()
    assert staff_commander.get(list_url(type(commander))).status_code == 403
    staff_commander.post(
        change_url(commander), {"username": commander.username, "is_superuser": "on"}
    )
    commander.refresh_from_db()
    assert not commander.is_superuser


def test_superuser_still_sees_everything(territory):
    client = Client()
    client.force_login(territory.users["admin"])
    text = client.get(list_url(Household)).content.decode()
    assert territory.households["B1a"].head_name in text


def _loaded_version(client, url):
    return client.get(url).context["adminform"].form["loaded_version"].value()


def test_admin_refuses_a_stale_save(territory):
    client = Client()
    client.force_login(territory.users["admin"])
    policy = VisitPolicy.objects.get(flag="default")
    url = change_url(policy)
    loaded = _loaded_version(client, url)
    # Someone else saves in between.
    other = VisitPolicy.objects.get(pk=policy.pk)
    other.interval_days = 20
    other.save()
    response = client.post(url, {"flag": "default", "interval_days": 40, "loaded_version": loaded})
    assert response.status_code == 200  # the form again, with the error
    assert "someone changed this record" in response.content.decode().lower()
    policy.refresh_from_db()
    assert policy.interval_days == 20
    # Reloaded, the same change goes through.
    response = client.post(
        url,
        {"flag": "default", "interval_days": 40, "loaded_version": _loaded_version(client, url)},
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.interval_days == 40


def test_admin_refuses_a_stale_household_save(territory):
    client = Client()
    client.force_login(territory.users["admin"])
    household = territory.households["A1a-south"]
    url = change_url(household)
    loaded = _loaded_version(client, url)
    Household.objects.filter(pk=household.pk).update(members=9, version=household.version + 1)
    form = {
        "location": '{"type": "Point", "coordinates": [112.02, 32.62]}',
        "address": household.address,
        "members": 7,
        "head_name": household.head_name,
        "head_phone": household.head_phone,
        "loaded_version": loaded,
    }
    response = client.post(url, form)
    assert response.status_code == 200
    assert "someone changed this record" in response.content.decode().lower()
    household.refresh_from_db()
    assert household.members == 9
    form["loaded_version"] = _loaded_version(client, url)
    assert client.post(url, form).status_code == 302
    household.refresh_from_db()
    assert household.members == 7
