"""Who sees which case (a department what is dispatched to it, a volunteer what is assigned to
them, a resident their own), who sees its contact in clear, nearby duplicates within metres
and days, deadlines flagged as estimated in a year whose schedule is unknown, and the command
that registers a hotline caller system."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from cases import selectors, services
from cases.models import Case, Department

pytestmark = pytest.mark.django_db

A1B = (112.07, 32.65)


def report(territory, who="resident", where=A1B, **extra):
    return services.case_report(
        user=territory.users[who], item="0201", lon=where[0], lat=where[1], **extra
    )


def seen_by(territory, who):
    return set(selectors.cases_for_user(user=territory.users[who]).values_list("pk", flat=True))


def test_a_department_sees_what_is_dispatched_to_it_and_a_volunteer_what_is_theirs(territory):
    staff, volunteer = territory.users["department_staff"], territory.users["volunteer"]
    bureau = Department.objects.create(code="411381-cgj", name="城管局", county_code="411381")
    bureau.members.add(staff)
    to_bureau, to_volunteer = report(territory), report(territory)
    assert not seen_by(territory, "department_staff") and not seen_by(territory, "volunteer")
    officer = territory.users["village_officer"]
    services.case_act(
        user=officer, case=to_bureau, action="dispatch", expected_version=1, department=bureau.code
    )
    services.case_act(
        user=officer,
        case=to_volunteer,
        action="dispatch",
        expected_version=1,
        assignee=volunteer.pk,
    )
    assert seen_by(territory, "department_staff") == {to_bureau.pk}
    assert seen_by(territory, "volunteer") == {to_volunteer.pk}
    assert seen_by(territory, "resident") == {to_bureau.pk, to_volunteer.pk}  # their own
    case = Case.objects.get(pk=to_bureau.pk)
    assert selectors.allowed_actions_for(user=staff, case=case) == ["decline", "accept"]
    assert selectors.contact_shown(user=staff)(case)
    assert not selectors.contact_shown(user=territory.users["commander"])(case)
    assert selectors.case_history(user=staff, case=case)[-1].fields == {"department": bureau.code}


def test_duplicates_are_the_same_item_within_metres_and_days(territory):
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    case = report(territory, now=now)
    near = report(territory, where=(A1B[0] + 0.001, A1B[1]), now=now)  # ~94 m east
    far = report(territory, where=(A1B[0] + 0.005, A1B[1]), now=now)  # ~470 m
    late = report(territory, where=(A1B[0], A1B[1] + 0.0005), now=now + timedelta(days=9))
    services.case_report(
        user=territory.users["resident"], item="0302", lon=A1B[0], lat=A1B[1], now=now
    )
    assert [c.pk for c in selectors.duplicate_candidates(case=case)] == [near.pk]
    assert [c.pk for c in selectors.duplicate_candidates(case=case, metres=1000)] == [
        near.pk,
        far.pk,
    ]
    assert late.pk in {c.pk for c in selectors.duplicate_candidates(case=case, days=10)}
    services.case_act(
        user=territory.users["village_officer"],
        case=near,
        action="reject",
        expected_version=1,
        reason="重复",
    )
    assert not list(selectors.duplicate_candidates(case=case))  # closed cases are no targets
    assert not list(selectors.duplicate_candidates(case=case, user=territory.users["volunteer"]))


def test_a_deadline_in_a_year_without_a_schedule_is_flagged(territory):
    # 2027 is unknown to the calendar package (1.11 knows 2004-2026) and has no overrides.
    case = report(territory, now=datetime(2027, 3, 2, 2, 0, tzinfo=UTC))
    assert case.estimated and case.due_at is not None
    known = report(territory, now=datetime(2026, 3, 3, 2, 0, tzinfo=UTC))
    assert not known.estimated


def test_the_command_registers_a_caller_and_prints_its_key_once(territory):
    out = io.StringIO()
    call_command("create_hotline_caller", "邓州12345", county="411381", stdout=out, stderr=out)
    key = out.getvalue().splitlines()[0]
    caller = selectors.hotline_caller_for_key(key)
    assert caller is not None and caller.county_code == "411381"
    with pytest.raises(CommandError):
        call_command("create_hotline_caller", "邓州12345", county="411381", stdout=out)
    with pytest.raises(CommandError):
        call_command("create_hotline_caller", "别处", county="411381001", stdout=out)


def test_public_cases_are_a_countys_disclosed_cases_at_grid_level(territory):
    from cases.models import ServiceTerms

    county = territory.units["411381"]
    county.refresh_from_db()
    resident = services.case_report(
        user=territory.users["resident"], item="0201", lon=112.07, lat=32.65
    )
    worker = services.case_report(
        user=territory.users["grid_worker"], item="0205", lon=112.02, lat=32.62
    )
    found = selectors.public_cases(county=county)
    assert [c.number for c in found] == [worker.number, resident.number]  # newest first
    spot = found[1].grid_spot
    assert (spot.x, spot.y) != (112.07, 32.65) and resident.grid.boundary.covers(spot)
    assert found[1].last_event_fields == {"source": "resident"}
    assert [c.number for c in selectors.public_cases(county=county, item_codes=["0205"])] == [
        worker.number
    ]
    assert selectors.public_cases(county=county, statuses=["verified"]) == []
    ServiceTerms.objects.filter(item__code="0205").update(public=False)
    assert [c.number for c in selectors.public_cases(county=county)] == [resident.number]
    by_number = selectors.public_cases(county=county, numbers=[resident.number], statuses=[])
    assert [c.number for c in by_number] == [resident.number]  # numbers override the rest
