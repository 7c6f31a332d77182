"""Benchmark: the case flow at city scale (issue 11), the project's code against the same work
written by hand in SQL, in the same run, on the same data.

The data: the city-scale demo territory (seed_demo --scale city: 28 townships, 600-odd
villages, 6,000-odd grids, 580,000 households) with 1,000,000 cases raised over two years by
demo/cases.py (histories that walk cases.flow, deadlines on the working calendar), built once
and reused while the count is right (`--cases N` for a quicker run, `--rebuild` to draw anew).
It runs on its own database (`make bench` gives it wangge_cbench), so the other benchmarks keep
their tables small.

(a) cards: cases.services.cards_record (one INSERT ... SELECT over the open cases) against a
    hand-written INSERT ... SELECT; each in a transaction rolled back, best of three, and both
    must record the same (case, colour) pairs.
(b) indicators of a quarter for the county and for each of its townships:
    cases.selectors.case_indicators against hand-written SQL over the events; the figures must
    agree.
(c) a township's case list (GET /api/cases/ as the township's commander, Django's test client,
    the whole request through the middleware): p50/p95 over warm runs. Goal: p95 < 100 ms.
(d) steps per second through cases.services.case_act with 8 users at once (threads, each with
    its own connection) on shared cases: every answer that said OK must be one event (lost
    otherwise), no intended step may appear twice (doubled), and the text messages the steps
    queued, delivered by the real task body (notifications.tasks) from 4 workers at once to a
    fake SMS gateway (notifications/tests/gateway.py), must reach it once per key.

The last printed line is one JSON object. The machine may be shared: the figures are for the
2 cores as they were during the run.
"""

import argparse
import datetime
import json
import logging
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.gis.geos import Point  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from cases import flow, services  # noqa: E402
from cases.models import Case, CaseEvent, Department, DepartmentArea  # noqa: E402
from demo.cases import cases_generate, staff_ensure  # noqa: E402
from demo.users import demo_users_create  # noqa: E402
from territory.codes import Level  # noqa: E402
from territory.models import RoleChoices, Unit  # noqa: E402
from territory.services import role_assign  # noqa: E402

SEED = 411381
# The cases (d) makes come from an Open311 client: the generator makes none, so they are told
# apart from the city's million when the count is checked.
STEPS_SOURCE = "open311"


def log(text: str) -> None:
    print(text, flush=True)


# --- the data --------------------------------------------------------------------------------


def _part(k: int, parts: int, n: int, now, staff, spots, out) -> None:
    from django.db import connections

    try:
        with transaction.atomic():
            figures = cases_generate(
                n=n,
                seed=SEED,
                now=now,
                part=(k, parts),
                staff=staff,
                spots=spots,
                progress=lambda done: log(f"  part {k + 1}/{parts}: {done:,} cases written"),
            )
        out.put(figures)
    except BaseException as error:
        out.put({"error": repr(error)})
        raise
    finally:
        connections.close_all()


def generate_in_parallel(n: int, *, parts: int) -> dict:
    """The generation is Python-bound: on a shared machine, `parts` processes (forked after the
    households and staff are read, so they share them) get through it sooner. Each writes the
    days of its part in its own transaction."""
    import multiprocessing

    from django.db import connections

    from demo.cases import cases_analyze, sequences_past, spots_read, staff_read

    now = timezone.now()
    staff, spots = staff_read(), spots_read()
    connections.close_all()  # the children open their own
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    children = [
        context.Process(target=_part, args=(k, parts, n, now, staff, spots, out))
        for k in range(parts)
    ]
    for child in children:
        child.start()
    results = [out.get() for _ in children]
    for child in children:
        child.join()
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        sys.exit(f"bench: generating the cases failed: {errors[0]}")
    sequences_past()
    cases_analyze()
    return {key: sum(r[key] for r in results) for key in ("cases", "events", "cards")}


def build(n: int, *, rebuild: bool, parts: int = 3) -> dict:
    call_command("migrate", verbosity=0)
    if not Unit.objects.exists():
        log("seeding the city-scale territory (once) ...")
        call_command("seed_demo", "--scale", "city", "--cases", "0")
    demo_users_create()
    made = staff_ensure(prefix="bench")
    if made:
        log(f"made {made:,} staff logins (a worker per grid, an officer per village, ...)")
    generated = Case.objects.exclude(source=STEPS_SOURCE).count()
    if generated == n and not rebuild:
        log(f"reusing the {n:,} cases already there")
        return {"built_s": None}
    log(f"generating {n:,} cases over two years (had {generated:,}) ...")
    start = time.perf_counter()
    with connection.cursor() as cursor:
        # The events and cards refuse DELETE (migrations 0003, 0005); TRUNCATE is the owner's.
        cursor.execute(
            "TRUNCATE cases_card, cases_caseevent, cases_case, cases_casecounter, "
            "notifications_message CASCADE"
        )
    figures = generate_in_parallel(n, parts=parts)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE cases_case")
        cursor.execute("VACUUM ANALYZE cases_caseevent")
        cursor.execute("VACUUM ANALYZE cases_card")
    built = time.perf_counter() - start
    log(
        f"wrote {figures['cases']:,} cases, {figures['events']:,} events, "
        f"{figures['cards']:,} cards in {built:.0f} s"
    )
    return {"built_s": round(built, 1)}


# --- (a) cards ----------------------------------------------------------------------------------

OPEN = sorted(set(flow.Status.values) - set(flow.TERMINAL))
# By hand: the open statuses, each colour on its own, so that the (status, due_at) index serves
# the red half; a case whose status is open has a running step (services._apply).
HAND_CARDS = """
INSERT INTO cases_card (case_id, colour, step, step_started_at, at, recorded_at,
                        assignee_id, department_id, territory_path)
SELECT id, 'yellow', step, step_started_at, yellow_at, %(now)s, assignee_id, department_id,
       territory_path
  FROM cases_case WHERE status = ANY(%(open)s) AND yellow_at <= %(now)s
UNION ALL
SELECT id, 'red', step, step_started_at, due_at, %(now)s, assignee_id, department_id,
       territory_path
  FROM cases_case WHERE status = ANY(%(open)s) AND due_at <= %(now)s
ON CONFLICT (case_id, step_started_at, colour) DO NOTHING
RETURNING case_id, colour
"""


def _rolled_back(run):
    """Time `run()` in a transaction that is then rolled back (each round starts from the same
    cards); returns (seconds, what it returned)."""
    with transaction.atomic():
        start = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - start
        transaction.set_rollback(True)
    return seconds, result


def bench_cards(now) -> dict:
    def project():
        ids = services.cards_record(now=now)
        with connection.cursor() as cursor:
            cursor.execute("SELECT case_id, colour FROM cases_card WHERE id = ANY(%s)", [ids])
            return set(cursor.fetchall())

    def hand():
        with connection.cursor() as cursor:
            cursor.execute(HAND_CARDS, {"now": now, "open": OPEN})
            return set(cursor.fetchall())

    times = {"project": [], "hand": []}
    results = {}
    for _ in range(3):
        for name, run in (("hand", hand), ("project", project)):
            seconds, results[name] = _rolled_back(run)
            times[name].append(seconds)
    project_s, hand_s = min(times["project"]), min(times["hand"])
    agree = results["project"] == results["hand"]
    log(
        f"(a) cards for the open cases: project {project_s * 1000:.0f} ms, hand-written SQL "
        f"{hand_s * 1000:.0f} ms; {len(results['project']):,} cards, "
        f"{'the same' if agree else 'DIFFERENT'} from both"
    )
    return {
        "cards": len(results["project"]),
        "cards_agree": agree,
        "cards_project_ms": round(project_s * 1000, 1),
        "cards_hand_ms": round(hand_s * 1000, 1),
        "cards_ratio": round(project_s / hand_s, 3),
    }


# --- (b) indicators ----------------------------------------------------------------------------

# By hand: the events of the period with their case's township, one pass; working seconds from a
# table of days (seconds before the day, the day's office seconds), joined by local date.
HAND_INDICATORS = """
WITH ev AS (
    SELECT split_part(substr(c.territory_path, %(cut)s), '/', 1) AS k,
           e.case_id, e.seq, e.action, e.at, e.fields, c.created_at
      FROM cases_caseevent e
      JOIN cases_case c ON c.id = e.case_id
     WHERE e.at >= %(lo)s AND e.at < %(hi)s
       AND c.territory_path LIKE %(below)s
       AND e.action IN ('report', 'dispatch', 'escalate', 'handle', 'verify', 'rework', 'rate')
), w AS (
    SELECT ev.*,
           (SELECT d.before + least(d.total, {office_at})
              FROM bench_days d WHERE d.day = (ev.at AT TIME ZONE 'Asia/Shanghai')::date)
         - (SELECT d.before + least(d.total, {office_created})
              FROM bench_days d WHERE d.day = (ev.created_at AT TIME ZONE 'Asia/Shanghai')::date)
           AS seconds,
           (ev.action = 'handle' AND EXISTS (
               SELECT 1 FROM cases_caseevent p
                 JOIN cases_card r ON r.case_id = p.case_id AND r.step_started_at = p.at
                WHERE p.case_id = ev.case_id AND p.seq = ev.seq - 1
                  AND r.colour = 'red' AND r.step = 'handle' AND r.at < ev.at)) AS handled_late,
           (ev.action = 'verify' AND EXISTS (
               SELECT 1 FROM cases_card r
                WHERE r.case_id = ev.case_id AND r.colour = 'red' AND r.step <> 'publish'
                  AND r.at < ev.at)) AS closed_late
      FROM ev
)
SELECT k, 'events',
       count(*) FILTER (WHERE action = 'report'),
       count(*) FILTER (WHERE seq = 2 AND action IN ('dispatch', 'escalate')),
       count(*) FILTER (WHERE action = 'dispatch'),
       count(*) FILTER (WHERE action = 'handle'),
       count(*) FILTER (WHERE action = 'handle' AND NOT handled_late),
       coalesce(sum(seconds) FILTER (WHERE action = 'handle'), 0),
       count(*) FILTER (WHERE action = 'verify'),
       count(*) FILTER (WHERE action = 'verify' AND NOT closed_late),
       count(*) FILTER (WHERE action = 'rework'),
       count(*) FILTER (WHERE action = 'rate'),
       coalesce(sum((fields ->> 'rating')::int) FILTER (WHERE action = 'rate'), 0)
  FROM w GROUP BY k
UNION ALL
SELECT split_part(substr(territory_path, %(cut)s), '/', 1), 'cards',
       count(*) FILTER (WHERE colour = 'red'), count(*) FILTER (WHERE colour = 'yellow'),
       0, 0, 0, 0, 0, 0, 0, 0, 0
  FROM cases_card
 WHERE at >= %(lo)s AND at < %(hi)s AND territory_path LIKE %(below)s
 GROUP BY 1
"""
EVENT_FIELDS = (
    "reported",
    "registered",
    "dispatched",
    "handled",
    "handled_on_time",
    "handling_seconds",
    "closed",
    "closed_on_time",
    "rework",
    "rated",
    "rating_sum",
)
COMPARED = (
    "reported",
    "registered",
    "dispatched",
    "handled",
    "handled_on_time",
    "closed",
    "closed_on_time",
    "overdue",
    "yellow",
    "rework",
    "satisfaction_count",
    "avg_handling_hours",
    "satisfaction_avg",
)


def last_quarter(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    first_month = 3 * ((today.month - 1) // 3) + 1
    this_start = datetime.date(today.year, first_month, 1)
    end = this_start - datetime.timedelta(days=1)
    return datetime.date(end.year, 3 * ((end.month - 1) // 3) + 1, 1), end


def _days_table(start: datetime.date, end: datetime.date) -> str:
    """bench_days: for each local day, the office seconds before it and its own; and the SQL of
    the office seconds up to an instant's time of day."""
    calendar = selectors_working_calendar()
    office = [
        (o.hour * 3600 + o.minute * 60, c.hour * 3600 + c.minute * 60)
        for o, c in calendar.office_hours
    ]
    per_day = float(sum(c - o for o, c in office))
    rows, before, day = [], 0.0, start
    while day <= end:
        total = per_day if calendar.is_workday(day) else 0.0
        rows.append((day, before, total))
        before += total
        day += datetime.timedelta(days=1)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_days")
        cursor.execute(
            "CREATE TEMP TABLE bench_days (day date PRIMARY KEY, before float8, total float8)"
        )
        with cursor.cursor.copy("COPY bench_days FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
        cursor.execute("ANALYZE bench_days")

    def office_sql(column: str) -> str:
        tod = f"extract(epoch FROM ({column} AT TIME ZONE 'Asia/Shanghai')::time)"
        return " + ".join(f"greatest(0, least({tod}, {c}) - {o})" for o, c in office)

    return office_sql


def selectors_working_calendar():
    from cases.selectors import working_calendar

    return working_calendar()


def hand_indicators(county: Unit, start, end) -> dict:
    from cases import indicators

    lo, hi = indicators.Period(start, end).instants()
    office_sql = _days_table(start - datetime.timedelta(days=3 * 366), end)
    sql = HAND_INDICATORS.format(
        office_at=office_sql("ev.at"), office_created=office_sql("ev.created_at")
    )
    sums = defaultdict(lambda: defaultdict(float))
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "cut": len(county.path) + 2,
                "lo": lo,
                "hi": hi,
                "below": county.path.replace("_", "\\_") + "/%",
            },
        )
        for k, part, *values in cursor.fetchall():
            names = EVENT_FIELDS if part == "events" else ("overdue", "yellow")
            for name, value in zip(names, values, strict=False):
                sums[k][name] += float(value)
    rows = {}
    for k, v in sums.items():
        rows[k] = {
            **{name: int(v[name]) for name in COMPARED[:10]},
            "satisfaction_count": int(v["rated"]),
            "avg_handling_hours": v["handling_seconds"] / v["handled"] / 3600
            if v["handled"]
            else None,
            "satisfaction_avg": v["rating_sum"] / v["rated"] if v["rated"] else None,
        }
    county_row = {name: sum(r[name] for r in rows.values()) for name in COMPARED[:11]}
    handled = sum(sums[k]["handled"] for k in sums)
    rated = sum(sums[k]["rated"] for k in sums)
    county_row["avg_handling_hours"] = (
        sum(sums[k]["handling_seconds"] for k in sums) / handled / 3600 if handled else None
    )
    county_row["satisfaction_avg"] = (
        sum(sums[k]["rating_sum"] for k in sums) / rated if rated else None
    )
    rows[county.code] = county_row
    return rows


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def bench_indicators(county: Unit, now) -> dict:
    try:
        from cases.selectors import case_indicators
    except ImportError:
        log("(b) indicators: cases.selectors.case_indicators is not there (branch ind not merged)")
        return {"indicators_ratio": None, "indicators_note": "case_indicators missing"}
    start, end = last_quarter(timezone.localdate(now))
    user = get_user_model().objects.get(username="commander")  # the county centre (demo)
    times = {"project": [], "hand": []}
    for _ in range(3):
        t = time.perf_counter()
        hand = hand_indicators(county, start, end)
        times["hand"].append(time.perf_counter() - t)
        t = time.perf_counter()
        rows = case_indicators(
            user=user, unit_code=county.code, start=start, end=end, by_child=True
        )
        times["project"].append(time.perf_counter() - t)
    project = {r.unit_code: r.as_dict() for r in rows}
    differ = []
    for code, mine in hand.items():
        theirs = project.get(code)
        if theirs is None and code:
            differ.append(f"{code}: missing from the project's rows")
            continue
        for name in COMPARED:
            if not _same(mine[name], (theirs or {}).get(name)):
                differ.append(f"{code} {name}: hand {mine[name]} project {theirs.get(name)}")
    for code, theirs in project.items():
        if code not in hand and theirs["reported"] + theirs["handled"] + theirs["overdue"]:
            differ.append(f"{code}: missing from the hand-written rows")
    project_s, hand_s = min(times["project"]), min(times["hand"])
    total = project[county.code]
    log(
        f"(b) indicators {start}..{end} for {county.name} and its {len(project) - 1} "
        f"townships: project {project_s * 1000:.0f} ms, hand-written SQL {hand_s * 1000:.0f} ms; "
        f"{total['reported']:,} reported, {total['handled']:,} handled "
        f"({(total['on_time_handling_rate'] or 0) * 100:.1f}% on time), {total['closed']:,} "
        f"closed, {total['overdue']:,} red cards; "
        + ("the same figures from both" if not differ else f"DIFFERENT: {'; '.join(differ[:5])}")
    )
    return {
        "indicators_period": f"{start}..{end}",
        "indicators_rows": len(project),
        "indicators_agree": not differ,
        "indicators_project_ms": round(project_s * 1000, 1),
        "indicators_hand_ms": round(hand_s * 1000, 1),
        "indicators_ratio": round(project_s / hand_s, 3),
    }


# --- (c) a township's case list -------------------------------------------------------------------


def township_commander(township: Unit):
    User = get_user_model()
    user = (
        User.objects.filter(
            role_assignments__role=RoleChoices.COMMANDER, role_assignments__unit_code=township.code
        )
        .order_by("pk")
        .first()
    )
    return user


def bench_list(township: Unit, runs: int) -> dict:
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    user = township_commander(township)
    client = Client()
    client.force_login(user)
    for _ in range(5):  # warm: connections, caches, the plan
        response = client.get("/api/cases/")
        assert response.status_code == 200, response.content[:300]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get("/api/cases/")
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    body = response.json()
    times.sort()
    p50 = statistics.median(times)
    p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
    log(
        f"(c) {township.name}'s case list (GET /api/cases/ as {user.username}, "
        f"{body['count']:,} cases, page of {len(body['results'])}): "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms over {runs} warm runs"
    )
    return {
        "list_cases": body["count"],
        "list_p50_ms": round(p50, 1),
        "list_p95_ms": round(p95, 1),
    }


# --- (d) steps under 8 concurrent users --------------------------------------------------------

NEXT_STEP = {
    "reported": ("dispatch", "department"),
    "dispatched": ("accept", None),
    "accepted": ("handle", "note"),
    "handled": ("verify", None),
    "verified": ("publish", None),
}


def _steps_setup(township: Unit, users: int, n_cases: int):
    county = township.path.split("/")[0]
    department, _ = Department.objects.get_or_create(
        code=f"{county}-bench",
        defaults={"name": "基准测试部门", "name_en": "Benchmark department", "county_code": county},
    )
    DepartmentArea.objects.get_or_create(department=department, unit_code=township.code)
    User = get_user_model()
    actors = []
    for i in range(users):
        user, _ = User.objects.get_or_create(
            username=f"bench-step-{i}", defaults={"first_name": f"测试{i}"}
        )
        role_assign(user=user, role=RoleChoices.COMMANDER, unit_code=township.code)
        department.members.add(user)
        actors.append(user.pk)
    from demo.cases import spots_read

    rng = random.Random(SEED)
    spots = rng.sample(spots_read(path_prefix=township.path + "/"), n_cases)
    item = "0503"
    ids = []
    for i, spot in enumerate(spots):
        case = services.case_from_open311(
            client_name="bench",
            county_code=county,
            item=item,
            point=Point(spot.lon, spot.lat, srid=4326),
            description="基准测试",
            contact={"name": "张三", "phone": f"1390377{i:04d}"},
        )
        ids.append(case.pk)
    return department, actors, ids


def bench_steps(township: Unit, *, users: int, n_cases: int, seconds: float) -> dict:
    department, actors, ids = _steps_setup(township, users, n_cases)
    done: set = set()
    lock = threading.Lock()
    answers: list = []
    refused = Counter()
    errors: list = []
    stop_at = time.monotonic() + seconds

    def user_loop(i: int):
        from cases.services import CaseConflict, StaleCase

        rng = random.Random(i)
        user = get_user_model().objects.get(pk=actors[i])
        mine = []
        try:
            while time.monotonic() < stop_at:
                with lock:
                    left = [pk for pk in ids if pk not in done]
                if not left:
                    break
                # Everyone works the same few cases at once: contention, not throughput alone.
                pk = rng.choice(left[:16])
                row = Case.objects.filter(pk=pk).values("version", "status").first()
                if row["status"] not in NEXT_STEP:
                    with lock:
                        done.add(pk)
                    continue
                action, needs = NEXT_STEP[row["status"]]
                fields = {}
                if needs == "department":
                    fields["department"] = department.code
                elif needs == "note":
                    fields["note"] = "已处理完毕"
                at = timezone.now()
                try:
                    services.case_act(
                        user=user,
                        case=pk,
                        action=action,
                        expected_version=row["version"],
                        now=at,
                        **fields,
                    )
                except StaleCase:
                    refused["stale"] += 1
                except CaseConflict:
                    refused["conflict"] += 1
                else:
                    mine.append((pk, user.pk, at, action))
        except Exception as error:  # noqa: BLE001 - reported, and the run counts as failed
            errors.append(repr(error))
        finally:
            with lock:
                answers.extend(mine)
            connection.close()

    threads = [threading.Thread(target=user_loop, args=(i,)) for i in range(users)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    events = list(
        CaseEvent.objects.filter(case_id__in=ids, seq__gt=1).values_list(
            "case_id", "actor_id", "at", "action", "from_status", "to_status"
        )
    )
    said_ok = Counter(answers)
    written = Counter((c, a, at, action) for c, a, at, action, _, _ in events)
    lost = sum(max(0, n - written[k]) for k, n in said_ok.items())
    doubled = sum(max(0, n - said_ok[k]) for k, n in written.items())
    # Two events for one intended step: the same move twice on a case.
    moves = Counter((c, action, src) for c, _, _, action, src, _ in events)
    doubled += sum(n - 1 for n in moves.values() if n > 1)
    # Every case's history is still a path of the flow.
    broken = 0
    by_case = defaultdict(list)
    for event in CaseEvent.objects.filter(case_id__in=ids).order_by("case_id", "seq"):
        by_case[event.case_id].append(event)
    for history in by_case.values():
        state = flow.CaseState()
        for event in history[1:]:
            try:
                state = flow.next_state(state, event.action)
            except flow.FlowError:
                broken += 1
                break
    ok = len(answers)
    log(
        f"(d) {users} users on {n_cases} shared cases: {ok} steps in {elapsed:.1f} s "
        f"({ok / elapsed:.1f} steps/s); refused {refused['stale']} stale, "
        f"{refused['conflict']} illegal-here; lost {lost}, doubled {doubled}, broken histories "
        f"{broken}{'; errors: ' + '; '.join(errors[:3]) if errors else ''}"
    )
    figures = {
        "steps": ok,
        "steps_per_s": round(ok / elapsed, 1),
        "steps_refused_stale": refused["stale"],
        "steps_refused_conflict": refused["conflict"],
        "lost_transitions": lost,
        "doubled_transitions": doubled,
        "broken_histories": broken,
        "step_errors": len(errors),
    }
    return figures | deliver([f"case:{pk}" for pk in ids])


def deliver(topics: list[str]) -> dict:
    """The outbox of the steps, delivered by the task bodies from 4 workers at once: the minute
    sweep (deliver_due_messages) on two, the per-message job (message_deliver) on two, racing
    for the same messages, to the fake gateway through the webhook backend."""
    from notifications import tasks
    from notifications.models import Message
    from notifications.tests.gateway import FakeSmsGateway

    logging.getLogger("notifications.backends").setLevel(logging.WARNING)
    secret = "bench-webhook-secret"
    with FakeSmsGateway(secret) as gateway:
        settings.WANGGE_NOTIFICATION_BACKENDS = {
            **settings.WANGGE_NOTIFICATION_BACKENDS,
            "sms": "notifications.backends.WebhookSmsBackend",
        }
        settings.WANGGE_SMS_WEBHOOK_URL = gateway.url
        settings.WANGGE_SMS_WEBHOOK_SECRET = secret
        sms = Message.objects.filter(topic__in=topics, channel="sms")
        ids = list(sms.values_list("pk", flat=True))

        def sweeper():
            try:
                for _ in range(200):
                    if not tasks.deliver_due_messages(timestamp=0):
                        break
            finally:
                connection.close()

        def jobs(part):
            try:
                for pk in part:
                    tasks.message_deliver(message_id=pk)
            finally:
                connection.close()

        workers = [threading.Thread(target=sweeper) for _ in range(2)]
        workers += [threading.Thread(target=jobs, args=(ids[i::2],)) for i in range(2)]
        start = time.perf_counter()
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        elapsed = time.perf_counter() - start
        sent = sms.filter(status="sent").count()
        figures = {
            "messages_sms": len(ids),
            "messages_sent": sent,
            "messages_at_gateway": gateway.distinct,
            "doubled_messages": gateway.duplicates,
            "texts_doubled": gateway.doubled_messages,
        }
    log(
        f"    outbox: {len(ids)} text messages, {sent} sent in {elapsed:.1f} s by 4 racing "
        f"workers; the gateway holds {figures['messages_at_gateway']}, got "
        f"{figures['doubled_messages']} keys twice, {figures['texts_doubled']} texts twice"
    )
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true", help="draw the cases anew")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--parts", type=int, default=3, help="processes generating the cases")
    parser.add_argument("--runs", type=int, default=60, help="warm runs of the case list")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--step-cases", type=int, default=48)
    parser.add_argument("--step-seconds", type=float, default=60)
    args = parser.parse_args()
    figures = {"cases": args.cases}
    figures |= build(args.cases, rebuild=args.rebuild, parts=args.parts)
    if args.build_only:
        print(json.dumps(figures))
        return
    log(
        "bench: on a shared machine (2 cores; other work may be running): compare the ratios "
        "of one run, not absolute times across runs"
    )
    now = timezone.now()
    township = Unit.objects.current().filter(level=Level.TOWNSHIP).order_by("code").first()
    county = Unit.objects.current().get(code=township.parent_code)
    figures |= bench_cards(now)
    figures |= bench_indicators(county, now)
    figures |= bench_list(township, args.runs)
    figures |= bench_steps(
        township, users=args.users, n_cases=args.step_cases, seconds=args.step_seconds
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
