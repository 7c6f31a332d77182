"""Raising cases and acting on them through the services, on the real PostGIS territory of
conftest.py: where a case happened is fixed when it is raised, every action is an event the
database keeps as written, the flow's refusals come back as 409/403/400, a stale version is a
409, and two people acting at once on two connections never both win."""

import re
import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, InternalError, connection, connections, transaction
from django.http import Http404

from cases import selectors, services
from cases.models import Case, CaseEvent, Department
from core.tests.races import wait_until_blocked
from patrols import services as patrol_services
from patrols.models import IncidentCategory

pytestmark = pytest.mark.django_db

A1A_SOUTH = (112.02, 32.62)  # grid A1a, micro-grid ...00101
A1B = (112.07, 32.65)  # grid A1b (the resident's grid), no micro-grid
B1A = (112.15, 32.65)  # township B
# Tuesday 2026-12-01 10:00 in Shanghai: office hours.
TUESDAY = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def report(territory, who="resident", where=A1B, item="0201", **extra):
    return services.case_report(
        user=territory.users[who],
        item=item,
        lon=where[0],
        lat=where[1],
        **(
            {"description": "路灯不亮", "contact_name": "张三", "contact_phone": "13812345678"}
            | extra
        ),
    )


def act(territory, who, case, action, **fields):
    case.refresh_from_db()
    return services.case_act(
        user=territory.users[who],
        case=case,
        action=action,
        expected_version=case.version,
        **fields,
    )


def test_a_resident_request_is_placed_numbered_and_timed(territory):
    case = report(territory, now=TUESDAY)
    grid = territory.units["411381001001002"]
    grid.refresh_from_db()
    assert (case.grid_id, case.micro_grid_id) == (grid.pk, None)
    assert case.territory_path == grid.path
    assert re.fullmatch(r"411381-20261201-\d{4}", case.number)
    assert (case.status, case.step, case.source) == ("reported", "dispatch", "resident")
    # 0201's dispatch limit: 4 working hours from 10:00 -> 16:00 (the lunch break is not counted)
    assert case.due_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert case.step_started_at < case.yellow_at < case.due_at
    assert not case.estimated
    (event,) = CaseEvent.objects.filter(case=case)
    assert (event.seq, event.action, event.to_status, event.actor) == (
        1,
        "report",
        "reported",
        territory.users["resident"],
    )


def test_numbers_are_a_daily_sequence_per_county(territory):
    first = report(territory, now=TUESDAY)
    second = report(territory, now=TUESDAY)
    assert int(second.number[-4:]) == int(first.number[-4:]) + 1


def test_my_home_places_the_case_at_the_household(territory):
    from territory.models import RoleAssignment

    home = territory.households["A1b"]
    RoleAssignment.objects.filter(user=territory.users["resident"]).update(household=home)
    case = services.case_report(user=territory.users["resident"], item="0201", household=home.pk)
    assert case.point == home.location and case.grid_id == home.grid_id


def test_a_resident_may_not_name_a_neighbours_household_as_home(territory):
    # A1b lies in the grid the resident is registered in, but it is not their home: the case's
    # point (shown to the reporter) would tell them where that household lives.
    with pytest.raises(services.CaseError) as refused:
        services.case_report(
            user=territory.users["resident"],
            item="0201",
            household=territory.households["A1b"].pk,
        )
    assert refused.value.problems[0].where == "household"
    assert not Case.objects.exists()


def test_a_point_may_be_given_as_a_geometry(territory):
    from django.contrib.gis.geos import Point

    case = services.case_report(
        user=territory.users["resident"], item="0201", point=Point(*A1B, srid=4326)
    )
    assert (case.point.x, case.point.y) == A1B


def test_a_resident_may_not_name_a_household_elsewhere(territory):
    with pytest.raises(services.CaseError) as refused:
        services.case_report(
            user=territory.users["resident"],
            item="0201",
            household=territory.households["A1a-south"].pk,
        )
    assert refused.value.problems[0].where == "household"
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("who", "where", "allowed"),
    [
        ("resident", B1A, True),  # anywhere in their county
        ("grid_worker", A1A_SOUTH, True),
        ("grid_worker", A1B, False),  # not their grid
        ("village_officer", A1B, True),
        ("volunteer", A1B, False),  # volunteers take orders, they do not raise cases
        ("department_staff", A1B, False),
        ("resident", (113.5, 33.5), False),  # in no grid
    ],
)
def test_who_may_raise_a_case_where(territory, who, where, allowed):
    if allowed:
        assert report(territory, who, where).pk
    else:
        with pytest.raises(services.CaseError):
            report(territory, who, where)
        assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_bad_input_is_refused_and_writes_nothing(territory):
    for bad in (
        {"item": "01"},  # a category, not an item
        {"item": "9999"},
        {"description": "x" * 4001},
        {"contact_phone": "1" * 21},
    ):
        with pytest.raises(services.CaseError):
            report(territory, **bad)
    assert not Case.objects.exists()


def test_where_it_happened_stays_when_the_grid_is_redivided(territory):
    from territory.services import unit_retire

    case = report(territory, "grid_worker", A1A_SOUTH)
    micro = territory.units["41138100100100101"]
    micro.refresh_from_db()
    assert case.micro_grid_id == micro.pk
    unit_retire(unit=micro)
    case.refresh_from_db()
    assert case.micro_grid_id == micro.pk and case.territory_path == micro.path


# --- the six orders -----------------------------------------------------------------------


def test_a_case_through_the_six_orders_with_a_rework_loop(territory):
    case = report(territory, now=TUESDAY)
    worker = territory.users["grid_worker"]
    # The resident's grid is A1b; the grid worker serves A1a: dispatch to a volunteer instead.
    volunteer = territory.users["volunteer"]
    case = act(territory, "village_officer", case, "dispatch", assignee=volunteer.pk)
    assert (case.status, case.assignee, case.step) == ("dispatched", volunteer, "accept")
    with pytest.raises(Http404):
        act(territory, "grid_worker", case, "accept")  # not their grid, not theirs
    case = act(territory, "volunteer", case, "accept")
    case = act(territory, "volunteer", case, "handle", note="已修好")
    case = act(territory, "village_officer", case, "rework", reason="还是不亮")
    assert (case.status, case.step) == ("accepted", "handle")
    case = act(territory, "volunteer", case, "handle", note="换了灯泡")
    case = act(territory, "village_officer", case, "verify")
    case = act(territory, "resident", case, "rate", rating=5)
    case = act(territory, "village_officer", case, "publish")
    assert (case.status, case.step, case.due_at, case.satisfaction) == ("published", "", None, 5)
    events = list(CaseEvent.objects.filter(case=case).order_by("seq"))
    assert [e.action for e in events] == [
        "report",
        "dispatch",
        "accept",
        "handle",
        "rework",
        "handle",
        "verify",
        "rate",
        "publish",
    ]
    assert [e.seq for e in events] == list(range(1, 10))
    assert events[4].fields == {"reason": "还是不亮"} and events[5].note == "换了灯泡"
    assert events[1].fields == {"assignee": "volunteer"}
    assert case.version == 9
    assert worker not in {e.actor for e in events}


def test_an_escalation_is_acknowledged_by_the_department_and_rated_by_the_county(territory):
    staff = territory.users["department_staff"]
    bureau = Department.objects.create(code="411381-cgj", name="城管局", county_code="411381")
    bureau.members.add(staff)
    case = report(territory)
    with pytest.raises(Http404):  # not yet theirs
        act(territory, "department_staff", case, "acknowledge")
    case = act(
        territory, "township_commander", case, "escalate", department=bureau.code, reason="难"
    )
    assert (case.status, case.whistle, case.department, case.step) == (
        "escalated",
        "blown",
        bureau,
        "acknowledge",
    )
    case = act(territory, "department_staff", case, "acknowledge")
    assert (case.status, case.assignee) == ("accepted", staff)
    case = act(territory, "department_staff", case, "handle", note="已处理")
    case = act(territory, "village_officer", case, "verify")
    with pytest.raises(services.CaseForbidden):  # the township blew the whistle: not its rating
        act(territory, "township_commander", case, "rate_escalation", rating=4)
    case = act(territory, "commander", case, "rate_escalation", rating=4)
    assert (case.whistle, case.whistle_rating) == ("rated", 4)


def test_the_flows_refusals_are_409_403_and_400(territory):
    case = report(territory)
    with pytest.raises(services.CaseConflict) as illegal:
        act(territory, "village_officer", case, "verify")
    assert illegal.value.status == 409 and "allowed here: dispatch" in illegal.value.detail
    with pytest.raises(services.CaseConflict):
        act(territory, "village_officer", case, "fly")
    with pytest.raises(services.CaseForbidden) as forbidden:
        act(territory, "resident", case, "dispatch", assignee=territory.users["volunteer"].pk)
    assert forbidden.value.status == 403
    with pytest.raises(services.CaseError) as missing:
        act(territory, "village_officer", case, "dispatch")
    assert missing.value.status == 400 and missing.value.problems[0].where == "assignee"
    with pytest.raises(services.CaseError):  # a resident is no handler
        act(territory, "village_officer", case, "dispatch", assignee=territory.users["resident"].pk)
    with pytest.raises(services.CaseError):  # the worker of grid A1a does not serve A1b
        act(
            territory,
            "village_officer",
            case,
            "dispatch",
            assignee=territory.users["grid_worker"].pk,
        )
    case.refresh_from_db()
    assert (case.status, case.version) == ("reported", 1)
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_a_stale_version_is_409_stale_and_changes_nothing(territory):
    case = report(territory)
    with pytest.raises(services.StaleCase) as stale:
        services.case_act(
            user=territory.users["village_officer"],
            case=case,
            action="reject",
            expected_version=case.version + 1,
            reason="重复",
        )
    assert (stale.value.status, stale.value.code) == (409, "stale")
    case.refresh_from_db()
    assert case.status == "reported"


@pytest.mark.parametrize("who", ["grid_worker", "volunteer", "department_staff", "commander_b"])
def test_acting_outside_ones_reach_is_404(territory, who):
    if who == "commander_b":
        from territory.services import role_assign
        from territory.tests.factories import UserFactory

        territory.users[who] = UserFactory(username="commander_b")
        role_assign(user=territory.users[who], role="commander", unit_code="411381101")
    case = report(territory)
    with pytest.raises(Http404):
        act(territory, who, case, "reject", reason="不归我管")


def test_merge_points_at_the_duplicate(territory):
    first = report(territory)
    second = report(territory)
    merged = act(
        territory, "village_officer", second, "merge", duplicate_of=first.pk, reason="同一处"
    )
    assert (merged.status, merged.duplicate_of) == ("merged", first)
    with pytest.raises(services.CaseError):
        act(territory, "village_officer", first, "merge", duplicate_of=first.pk, reason="自己")


# --- the history is immutable --------------------------------------------------------------


def test_the_database_refuses_to_change_or_delete_an_event(territory):
    case = report(territory)
    event = CaseEvent.objects.get(case=case)
    for attempt in (
        lambda: CaseEvent.objects.filter(pk=event.pk).update(note="改写"),
        lambda: CaseEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
            attempt()
    with connection.cursor() as cursor, pytest.raises(IntegrityError), transaction.atomic():
        cursor.execute("DELETE FROM cases_caseevent")
    event.refresh_from_db()
    assert event.note == "路灯不亮"


# --- from an incident, from the hotline ----------------------------------------------------


def _incident(territory):
    return patrol_services.incident_create(
        user=territory.users["grid_worker"],
        incident_id=uuid.uuid4(),
        item_code="0201",
        lon=A1A_SOUTH[0],
        lat=A1A_SOUTH[1],
        description="垃圾堆放",
    ).incident


def test_an_incident_becomes_one_case_however_often_asked(territory):
    incident = _incident(territory)
    first = services.case_from_incident(user=territory.users["grid_worker"], incident=incident)
    again = services.case_from_incident(user=territory.users["village_officer"], incident=incident)
    assert first.created and not again.created and again.case.pk == first.case.pk
    case = first.case
    assert (case.source, case.grid_id, case.micro_grid_id, case.point) == (
        "incident",
        incident.grid_id,
        incident.micro_grid_id,
        incident.location,
    )
    assert Case.objects.count() == 1


def test_an_incident_outside_ones_reach_is_404(territory):
    incident = _incident(territory)
    for who in ("resident", "volunteer"):
        with pytest.raises(Http404):
            services.case_from_incident(user=territory.users[who], incident=incident)
    assert not Case.objects.exists()


@pytest.fixture
def caller(territory):
    return services.hotline_caller_create(name="邓州12345", county_code="411381")


def hotline(caller, order="H-2026-0001", **extra):
    return services.case_from_hotline(
        caller=caller,
        order_number=order,
        item=extra.pop("item", "0201"),
        lon=A1B[0],
        lat=A1B[1],
        description=extra.pop("description", "噪音扰民"),
        contact_name="李四",
        contact_phone="13900001111",
        **extra,
    )


def test_a_hotline_order_is_one_case_and_other_content_is_409(caller):
    row, key = caller
    first = hotline(row)
    again = hotline(row)
    assert first.created and not again.created and again.case.pk == first.case.pk
    assert (first.case.source, first.case.reporter) == ("hotline", None)
    assert CaseEvent.objects.get(case=first.case).actor_system == "邓州12345"
    with pytest.raises(services.CaseConflict):
        hotline(row, description="别的事")
    assert hotline(row, order="H-2026-0002").created
    assert Case.objects.count() == 2


def test_a_hotline_order_outside_its_county_is_refused(territory):
    other, _ = services.hotline_caller_create(name="别县", county_code="411302")
    with pytest.raises(services.CaseError):
        hotline(other)
    assert not Case.objects.exists()


def test_a_hotline_key_is_checked_by_its_digest(caller):
    row, key = caller
    assert selectors.hotline_caller_for_key(key) == row
    assert key not in (row.key_hash, row.key_prefix)
    assert selectors.hotline_caller_for_key(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert selectors.hotline_caller_for_key("") is None
    row.active = False
    row.save()
    assert selectors.hotline_caller_for_key(key) is None


def open311_case(**extra):
    from django.contrib.gis.geos import Point

    return services.case_from_open311(
        client_name="城市 App",
        county_code=extra.pop("county_code", "411381"),
        item="0205",
        point=Point(*extra.pop("where", A1B), srid=4326),
        description="夜里施工",
        contact={"name": "王五", "phone": "13700002222"},
        attributes={"noise_source": "construction", "lights_out": Decimal("3")},
        details={"email": "w@example.cn", "device_id": ""},
        **extra,
    )


def test_an_open311_request_is_a_case_without_a_user(territory):
    case = open311_case()
    case.refresh_from_db()
    assert (case.source, case.reporter, case.grid.code) == ("open311", None, "411381001001002")
    assert (case.contact_name, case.contact_phone) == ("王五", "13700002222")
    assert case.attributes == {"noise_source": "construction", "lights_out": "3"}
    assert case.reporter_details == {"email": "w@example.cn"}  # empty values dropped
    event = CaseEvent.objects.get(case=case)
    assert (event.actor, event.actor_system, event.fields) == (
        None,
        "城市 App",
        {"source": "open311"},
    )


def test_an_open311_request_outside_its_county_or_any_grid_is_refused(territory):
    with pytest.raises(services.CaseError, match="outside jurisdiction 411302"):
        open311_case(county_code="411302")
    with pytest.raises(services.CaseError, match="in no grid"):
        open311_case(where=(113.5, 33.5))
    assert not Case.objects.exists()


# --- two people at once ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_connections_acting_on_one_version_one_wins(territory):
    """A dispatches (not yet committed) while B, on its own connection, rejects the same
    version: B waits for A's row lock, then is refused as stale. One transition, one event."""
    case = report(territory)
    volunteer = territory.users["volunteer"]
    second = {}

    def officer_b():
        try:
            own = connections["default"]
            own.ensure_connection()
            second["pid"] = own.connection.info.backend_pid
            services.case_act(
                user=territory.users["township_commander"],
                case=case.pk,
                action="reject",
                expected_version=1,
                reason="不予受理",
            )
            second["outcome"] = "written"
        except services.StaleCase:
            second["outcome"] = "stale"
        finally:
            connections["default"].close()

    with transaction.atomic():
        services.case_act(
            user=territory.users["village_officer"],
            case=case,
            action="dispatch",
            expected_version=1,
            assignee=volunteer.pk,
        )
        b = threading.Thread(target=officer_b)
        b.start()
        waiting = wait_until_blocked(b, lambda: second.get("pid", -1))
        assert waiting, second
    b.join()
    assert second["outcome"] == "stale"
    case.refresh_from_db()
    assert (case.status, case.version) == ("dispatched", 2)
    assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True)) == [
        "report",
        "dispatch",
    ]


@pytest.mark.django_db(transaction=True)
def test_two_connections_making_a_case_of_one_incident_make_one(territory):
    """A makes the case (not yet committed) while B, on its own connection, makes it too: B
    finds no case yet, waits on the incident's unique key, then answers A's case."""
    incident = _incident(territory)
    second = {}

    def worker_b():
        try:
            own = connections["default"]
            own.ensure_connection()
            second["pid"] = own.connection.info.backend_pid
            second["result"] = services.case_from_incident(
                user=territory.users["grid_chief"], incident=incident.pk
            )
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            second["error"] = exc
        finally:
            connections["default"].close()

    with transaction.atomic():
        first = services.case_from_incident(user=territory.users["grid_worker"], incident=incident)
        b = threading.Thread(target=worker_b)
        b.start()
        waiting = wait_until_blocked(b, lambda: second.get("pid", -1))
        assert waiting, second
    b.join()
    assert "error" not in second, second
    assert first.created and not second["result"].created
    assert second["result"].case.pk == first.case.pk and Case.objects.count() == 1


def test_item_terms_decide_the_handle_limit(territory):
    item = IncidentCategory.objects.get(code="0202")  # urgent: 4 working hours to handle
    case = report(territory, item=item.code, now=TUESDAY)
    case = act(
        territory,
        "village_officer",
        case,
        "dispatch",
        assignee=territory.users["volunteer"].pk,
        now=TUESDAY,
    )
    case = act(territory, "volunteer", case, "accept", now=TUESDAY)
    assert case.due_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 16:00 in Shanghai
    case = act(territory, "volunteer", case, "handle", note="清理了", now=TUESDAY)
    assert case.step == "verify"  # 0202: 1 working day to verify -> Wednesday 17:30
    assert case.due_at == datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_two_connections_sending_one_hotline_order_make_one_case(territory):
    row, _ = services.hotline_caller_create(name="邓州12345", county_code="411381")
    results, errors = [], []
    barrier = threading.Barrier(2)

    def send():
        try:
            barrier.wait()
            results.append(hotline(row))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections["default"].close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(r.created for r in results) == [False, True]
    assert Case.objects.count() == 1 and CaseEvent.objects.count() == 1


def test_a_department_member_accepting_holds_the_case(territory):
    staff = territory.users["department_staff"]
    bureau = Department.objects.create(code="411381-cgj", name="城管局", county_code="411381")
    bureau.members.add(staff)
    case = report(territory)
    case = act(territory, "village_officer", case, "dispatch", department=bureau.code)
    assert (case.assignee, case.department) == (None, bureau)
    case = act(territory, "department_staff", case, "accept")
    assert (case.status, case.assignee, case.department) == ("accepted", staff, bureau)


def test_incidents_of_auto_items_become_cases_once(territory):
    from procrastinate.contrib.django import app

    worker = territory.users["grid_worker"]

    def log(item):
        return patrol_services.incident_create(
            user=worker,
            incident_id=uuid.uuid4(),
            item_code=item,
            lon=A1A_SOUTH[0],
            lat=A1A_SOUTH[1],
        ).incident

    gas, litter = log("0202"), log("0201")  # 0202 opens a case by itself, 0201 does not
    made = services.cases_from_auto_incidents()
    assert [c.incident_id for c in made] == [gas.pk]
    assert (made[0].reporter, made[0].source) == (worker, "incident")
    assert CaseEvent.objects.get(case=made[0]).fields == {"source": "incident", "auto": True}
    assert services.cases_from_auto_incidents() == []
    assert not Case.objects.filter(incident=litter).exists()
    tapped = services.case_from_incident(user=worker, incident=gas)
    assert not tapped.created and tapped.case.pk == made[0].pk
    crons = {p.task.name: p.cron for p in app.periodic_registry.periodic_tasks.values()}
    assert crons["cases.tasks.cases_from_auto_incidents"] == "* * * * *"
