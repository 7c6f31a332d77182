"""Boundary changes dated ahead: checked now, stored as a ScheduledChange, applied at their
instant (the clock is passed as `now=`), so that the current version of a unit is the one in
force at every instant and households stay in it until the switch."""

import datetime

import pytest
import shapely
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from core.validity import start_of
from territory.models import Household, ScheduledChange, Unit
from territory.services import (
    StaleProposal,
    TerritoryError,
    boundaries_import,
    household_create,
    role_assign,
    scheduled_change_apply,
    scheduled_change_cancel,
    scheduled_changes_apply_due,
    unit_replace,
    unit_retire,
)
from territory.tests.factories import UserFactory
from territory.tests.test_services import feature

pytestmark = pytest.mark.django_db

A1B = "411381001001002"  # grid A1b, (112.05, 32.6)-(112.1, 32.7), household "A1b" inside
VILLAGE = "411381001001"
NOW = timezone.now()
TOMORROW = timezone.localdate(NOW) + datetime.timedelta(days=1)
INSTANT = start_of(TOMORROW)  # the start of tomorrow in the server's time zone


def schedule_a1b(name="第二网格(新)", bounds=(112.05, 32.6, 112.1, 32.7), **kwargs):
    return boundaries_import(
        features=[feature(0, A1B, shapely.box(*bounds), name=name)],
        level="grid",
        parent_code=VILLAGE,
        replace=True,
        valid_from=TOMORROW,
        now=NOW,
        **kwargs,
    )


def versions(code=A1B):
    return list(Unit.objects.filter(code=code).order_by("valid_from"))


def grid_of(household) -> Unit | None:
    return Household.objects.get(pk=household.pk).grid


def test_a_replacement_dated_tomorrow_keeps_households_in_the_old_grid_until_its_instant(
    territory,
):
    old = Unit.objects.current().get(code=A1B)
    household = territory.households["A1b"]
    result = schedule_a1b()

    change = result.scheduled
    assert change.status == ScheduledChange.Status.PENDING and change.effective_at == INSTANT
    assert result.replaced == [A1B] and change.codes == [A1B]
    # Today nothing moved: one version, current, holding its household, also "as of" today.
    assert [(v.pk, v.valid_to) for v in versions()] == [(old.pk, None)]
    assert grid_of(household) == old
    assert Unit.objects.as_of(timezone.localdate(NOW)).get(code=A1B) == old

    # Not yet due a microsecond before its instant, neither by its job nor by the sweep.
    early = INSTANT - datetime.timedelta(microseconds=1)
    assert scheduled_change_apply(change_id=change.pk, now=early) is None
    assert scheduled_changes_apply_due(now=early) == []
    assert len(versions()) == 1

    (applied,) = scheduled_changes_apply_due(now=INSTANT + datetime.timedelta(minutes=1))
    assert applied.pk == change.pk and applied.status == ScheduledChange.Status.APPLIED
    assert applied.result == {"created": [], "replaced": [A1B]}
    before, after = versions()
    # The switch happens exactly at the instant, whenever the sweep ran.
    assert before.valid_to == after.valid_from == INSTANT and after.valid_to is None
    assert after.name == "第二网格(新)" and grid_of(household) == after
    assert Unit.objects.as_of(TOMORROW).get(code=A1B) == after
    assert Unit.objects.as_of(timezone.localdate(NOW)).get(code=A1B) == before

    # Its job and the sweep again, later: nothing more happens.
    later = INSTANT + datetime.timedelta(hours=1)
    assert scheduled_change_apply(change_id=change.pk, now=later) is None
    assert scheduled_changes_apply_due(now=later) == []
    assert len(versions()) == 2 and grid_of(household) == after


def test_a_unit_replaced_from_tomorrow_is_scheduled_and_switched_by_its_job(territory):
    unit = Unit.objects.current().get(code=A1B)
    change = unit_replace(unit=unit, on_date=TOMORROW, name="改名", now=NOW)
    assert isinstance(change, ScheduledChange) and change.effective_at == INSTANT
    assert versions() == [unit] and Unit.objects.get(pk=unit.pk).valid_to is None

    applied = scheduled_change_apply(change_id=change.pk, now=INSTANT)
    assert applied.status == ScheduledChange.Status.APPLIED
    before, after = versions()
    assert (before.valid_to, after.valid_from, after.name) == (INSTANT, INSTANT, "改名")
    assert applied.result == {"replaced": [A1B], "version": after.pk}
    assert grid_of(territory.households["A1b"]) == after


def test_a_date_of_today_or_earlier_applies_at_once_from_the_start_of_that_day(territory):
    today = timezone.localdate(NOW)
    result = boundaries_import(
        features=[feature(0, A1B, shapely.box(112.05, 32.6, 112.1, 32.7), name="今日")],
        level="grid",
        parent_code=VILLAGE,
        replace=True,
        valid_from=today,
        now=NOW,
    )
    assert result.scheduled is None and result.replaced == [A1B]
    assert not ScheduledChange.objects.exists()
    assert Unit.objects.current().get(code=A1B).valid_from == start_of(today)


def test_more_than_a_year_ahead_is_refused_and_nothing_is_stored(territory):
    with pytest.raises(TerritoryError, match="more than a year ahead"):
        boundaries_import(
            features=[feature(0, A1B, shapely.box(112.05, 32.6, 112.1, 32.7))],
            level="grid",
            parent_code=VILLAGE,
            replace=True,
            valid_from=datetime.date(9999, 12, 31),
            now=NOW,
        )
    assert not ScheduledChange.objects.exists() and len(versions()) == 1


def test_a_unit_cannot_be_retired_ahead_of_time(territory):
    unit = Unit.objects.current().get(code=A1B)
    with pytest.raises(TerritoryError, match="ahead of time"):
        unit_retire(unit=unit, on_date=timezone.now() + datetime.timedelta(days=1))
    assert Unit.objects.get(pk=unit.pk).valid_to is None


def test_the_switch_is_checked_now_orphans_refused_or_confirmed_but_only_at_the_instant(
    territory,
):
    household = territory.households["A1b"]  # at (112.07, 32.65)
    south = (112.05, 32.6, 112.1, 32.64)
    with pytest.raises(TerritoryError, match="without a grid"):
        schedule_a1b(bounds=south)
    assert not ScheduledChange.objects.exists() and grid_of(household).code == A1B

    change = schedule_a1b(bounds=south, allow_orphans=True).scheduled
    assert grid_of(household) == versions()[0]  # confirmed, yet not orphaned before its time
    scheduled_change_apply(change_id=change.pk, now=INSTANT)
    assert grid_of(household) is None


def test_a_change_that_no_longer_applies_at_its_instant_fails_with_the_reason(territory):
    unit = Unit.objects.current().get(code=A1B)
    change = schedule_a1b().scheduled
    # Meanwhile, today, someone gives the grid a new version.
    meanwhile = unit_replace(unit=unit, name="今日改")
    failed = scheduled_change_apply(change_id=change.pk, now=INSTANT)
    assert failed.status == ScheduledChange.Status.FAILED and failed.finished_at == INSTANT
    assert failed.problems == [
        {
            "where": f"code {A1B}",
            "message": f"{A1B} was given another version after this change was scheduled",
        }
    ]
    assert [v.pk for v in versions()] == [unit.pk, meanwhile.pk]
    assert Unit.objects.current().get(code=A1B).name == "今日改"
    assert scheduled_changes_apply_due(now=INSTANT) == []  # failed once, not retried


def test_a_change_that_would_orphan_households_added_since_fails_and_writes_nothing(territory):
    change = schedule_a1b(bounds=(112.05, 32.6, 112.1, 32.66)).scheduled  # holds A1b (32.65)
    newcomer = household_create(lon=112.07, lat=32.68, address="新户", head_name="张三")
    failed = scheduled_change_apply(change_id=change.pk, now=INSTANT)
    assert failed.status == ScheduledChange.Status.FAILED
    assert (
        "would leave 1 household(s) of 411381001001002 without a grid"
        in (failed.problems[0]["message"])
    )
    assert len(versions()) == 1 and grid_of(newcomer).code == A1B


def test_a_cancelled_change_is_never_applied(territory):
    change = schedule_a1b().scheduled
    cancelled = scheduled_change_cancel(change=change, user=territory.users["commander"])
    assert cancelled.status == ScheduledChange.Status.CANCELLED
    assert cancelled.cancelled_by == territory.users["commander"]
    assert scheduled_change_apply(change_id=change.pk, now=INSTANT) is None
    assert scheduled_changes_apply_due(now=INSTANT) == []
    assert len(versions()) == 1
    with pytest.raises(StaleProposal, match="cancelled already"):
        scheduled_change_cancel(change=change)


def test_a_unit_waits_for_one_scheduled_change_at_a_time(territory):
    first = schedule_a1b().scheduled
    with pytest.raises(TerritoryError, match=f"already scheduled .*scheduled change {first.pk}"):
        unit_replace(
            unit=Unit.objects.current().get(code=A1B),
            on_date=TOMORROW + datetime.timedelta(days=1),
            name="x",
            now=NOW,
        )
    assert ScheduledChange.objects.count() == 1


def test_a_new_unit_scheduled_fails_if_its_code_was_taken_meanwhile(territory):
    Unit.objects.filter(code=A1B).update(valid_to=start_of(datetime.date(2025, 1, 1)))
    new = feature(0, "411381001001003", shapely.box(112.05, 32.6, 112.1, 32.7))
    change = boundaries_import(
        features=[new], level="grid", parent_code=VILLAGE, valid_from=TOMORROW, now=NOW
    ).scheduled
    assert not Unit.objects.filter(code="411381001001003").exists()
    boundaries_import(features=[new], level="grid", parent_code=VILLAGE)  # today, by hand
    failed = scheduled_change_apply(change_id=change.pk, now=INSTANT)
    assert failed.status == ScheduledChange.Status.FAILED
    assert "411381001001003 was created after" in failed.problems[0]["message"]
    assert Unit.objects.filter(code="411381001001003").count() == 1


# --- the API and the command -------------------------------------------------------------


def _import_tomorrow(client):
    ring = [[112.05, 32.6], [112.1, 32.6], [112.1, 32.7], [112.05, 32.7], [112.05, 32.6]]
    body = {
        "level": "grid",
        "parent_code": VILLAGE,
        "replace": True,
        "valid_from": TOMORROW.isoformat(),
        "features": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"code": A1B, "name": "新"},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            ],
        },
    }
    return client.post(reverse("api-units-import"), body, format="json")


def test_the_api_answers_202_with_the_scheduled_change_and_lists_and_cancels_it(territory, api):
    commander = api(territory.users["commander"])
    response = _import_tomorrow(commander)
    assert response.status_code == 202, response.json()
    body = response.json()
    change_id = body["scheduled"]["id"]
    assert body["replaced"] == [A1B] and body["scheduled"]["status"] == "pending"
    assert datetime.datetime.fromisoformat(body["scheduled"]["effective_at"]) == INSTANT
    assert response["Location"] == reverse("api-scheduled-change", args=[change_id])
    assert len(versions()) == 1

    listed = commander.get(reverse("api-scheduled-changes"), {"unit": VILLAGE}).json()
    assert [c["id"] for c in listed["results"]] == [change_id]
    township = api(territory.users["township_commander"])
    assert township.get(reverse("api-scheduled-change", args=[change_id])).status_code == 200

    cancel = reverse("api-scheduled-change-cancel", args=[change_id])
    response = township.post(cancel)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert commander.get(reverse("api-scheduled-changes")).json()["results"] == []
    done = commander.get(reverse("api-scheduled-changes"), {"status": "cancelled"}).json()
    assert [c["id"] for c in done["results"]] == [change_id]
    again = commander.post(cancel)
    assert again.status_code == 409 and again.json()["errors"][0]["where"] == "status"


@pytest.mark.parametrize(
    "role", ["village_officer", "grid_chief", "grid_worker", "department_staff", "other"]
)
def test_outside_the_territory_one_edits_a_scheduled_change_is_404(territory, api, role):
    if role == "other":  # the commander of the other township
        user = UserFactory(username="commander_b")
        role_assign(user=user, role="commander", unit_code="411381101")
    else:
        user = territory.users[role]
    change = schedule_a1b(user=territory.users["commander"]).scheduled
    client = api(user)
    assert client.get(reverse("api-scheduled-changes")).json()["results"] == []
    assert client.get(reverse("api-scheduled-change", args=[change.pk])).status_code == 404
    cancel = reverse("api-scheduled-change-cancel", args=[change.pk])
    assert client.post(cancel).status_code == 404
    assert ScheduledChange.objects.get(pk=change.pk).status == "pending"


def test_the_list_refuses_an_unknown_status(territory, api):
    response = api(territory.users["commander"]).get(
        reverse("api-scheduled-changes"), {"status": "done"}
    )
    assert response.status_code == 400
    assert [e["where"] for e in response.json()["errors"]] == ["status"], response.json()


def test_the_command_says_the_import_is_scheduled(territory, tmp_path, capsys):
    path = tmp_path / "a1b.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        f'{{"code": "{A1B}", "name": "新"}}, "geometry": '
        '{"type": "Polygon", "coordinates": [[[112.05, 32.6], [112.1, 32.6], [112.1, 32.7], '
        "[112.05, 32.7], [112.05, 32.6]]]}}]}"
    )
    call_command(
        "import_boundaries",
        str(path),
        "--level",
        "grid",
        "--parent",
        VILLAGE,
        "--replace",
        "--valid-from",
        TOMORROW.isoformat(),
        verbosity=0,
    )
    change = ScheduledChange.objects.get()
    out = capsys.readouterr().out
    assert f"scheduled change {change.pk}: 0 new and 1 replaced grid unit(s)" in out
    assert f"{TOMORROW:%Y-%m-%d} 00:00" in out and len(versions()) == 1


def test_the_admin_lists_scheduled_changes_read_only(territory, client):
    change = schedule_a1b().scheduled
    client.force_login(territory.users["admin"])
    listing = client.get(reverse("admin:territory_scheduledchange_changelist"))
    assert listing.status_code == 200 and A1B in listing.content.decode()
    found = client.get(reverse("admin:territory_scheduledchange_changelist"), {"q": A1B})
    assert found.status_code == 200 and found.context["cl"].result_count == 1
    assert client.get(reverse("admin:territory_scheduledchange_add")).status_code == 403
    detail = client.get(reverse("admin:territory_scheduledchange_change", args=[change.pk]))
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    deleted = client.post(reverse("admin:territory_scheduledchange_delete", args=[change.pk]))
    assert deleted.status_code == 403 and ScheduledChange.objects.filter(pk=change.pk).exists()


def test_the_payload_holds_the_checked_boundary_and_the_versions_it_was_checked_against(
    territory,
):
    change = schedule_a1b().scheduled
    (row,) = change.payload["features"]
    stored = shapely.from_wkb(row["geometry"])
    assert stored.equals(shapely.box(112.05, 32.6, 112.1, 32.7))
    assert change.payload["versions"] == {A1B: versions()[0].pk}


@pytest.mark.django_db(transaction=True)
def test_a_change_being_applied_elsewhere_is_skipped_not_applied_twice(territory):
    """The job and the sweep (or two workers) at once: the second finds the row locked and
    leaves it, then finds it applied."""
    import threading

    from django.db import connection, transaction

    change = schedule_a1b().scheduled
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                ScheduledChange.objects.select_for_update().get(pk=change.pk)
                locked.set()
                release.wait(timeout=60)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(timeout=60)
        assert scheduled_change_apply(change_id=change.pk, now=INSTANT) is None
        assert scheduled_changes_apply_due(now=INSTANT) == []
    finally:
        release.set()
        thread.join()
    assert scheduled_change_apply(change_id=change.pk, now=INSTANT).status == "applied"
    assert scheduled_change_apply(change_id=change.pk, now=INSTANT) is None
    assert len(versions()) == 2
