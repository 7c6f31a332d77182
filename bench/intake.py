"""Benchmark: incident intake under the production setup.

gunicorn (2 sync workers, production settings) serves the project on 127.0.0.1; locust
(headless, a second process) plays grid workers, signed in beforehand, posting incidents with
phone-made ids. Afterwards the stored incidents are compared with the acknowledged ones: none
may be lost, none duplicated. On the same server, in rounds alternating with the project's:
- minimal: a DRF endpoint doing one raw PostGIS INSERT (session auth, no grid lookup, no
  validation, no idempotency, no audit): what a careful peer would ship.
Then raw: a psycopg INSERT loop, one commit per row: the database's limit here.
After the load, 300 acknowledged ids are resent from 8 concurrent phones (a retry after a lost
answer): each must be answered 200, and nothing stored again.

The throughput rounds run on the benchmark database, which may trade durability for speed (the
output says which: `durable`). So "lost 0" is checked once more after a crash, on a durable
database: the crash round (bench/crash.py) starts a throwaway PostgreSQL cluster with
PostgreSQL's default durability, serves it the same way, and while 8 phones send incidents it
kill -9s the postmaster, restarts it (crash recovery), and counts the incidents answered 200/201
that are missing: `crash_lost`, goal 0. Requests in flight when the database died get a 5xx or
a broken connection, so they count as unacknowledged; the phones' outbox then resends them.
`--crash-only` runs the crash round alone; `--crash-nondurable` runs it with fsync and
synchronous_commit off, to show that the round does catch losses. The last printed line is one
JSON object.
"""

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import psycopg  # noqa: E402
import shapely  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.crash import Cluster  # noqa: E402
from demo.layout import SMALL_TERRITORY  # noqa: E402
from patrols.models import Incident  # noqa: E402
from territory.models import RoleAssignment, Unit  # noqa: E402

USERS = int(os.environ.get("BENCH_INTAKE_USERS", "16"))
SECONDS = int(os.environ.get("BENCH_INTAKE_SECONDS", "10"))  # per round
ROUNDS = int(os.environ.get("BENCH_INTAKE_ROUNDS", "5"))
USERNAME, PASSWORD = "bench_worker", "bench-worker-pw"
BIN = Path(sys.executable).parent
LOCUST = os.environ.get("BENCH_LOCUST", str(BIN / "locust"))  # or one from another venv
CRASH_USERS = 8
CRASH_SESSIONS = 2  # the phones share them: a sign-in hashes a password, seconds on this machine
# Incidents stored before the kill, and again after the restart, before the load stops (each
# wait bounded by CRASH_WAIT seconds).
CRASH_INCIDENTS = int(os.environ.get("BENCH_CRASH_INCIDENTS", "150"))
CRASH_WAIT = 15
# The test suite's small territory down to its grids (demo/layout.py).
CRASH_TERRITORY = [row for row in SMALL_TERRITORY if row[0] != "microgrid"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(workdir: Path):
    call_command("migrate", verbosity=0)
    grid = Unit.objects.current().filter(level="grid").order_by("code").first()
    if grid is None:
        sys.exit("the bench database has no grid: run `make bench` (it seeds it)")
    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    user.set_password(PASSWORD)
    user.save()
    RoleAssignment.objects.get_or_create(user=user, role="grid_worker", unit_code=grid.code)
    shape = shapely.from_wkb(bytes(grid.boundary.wkb))
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = shape.bounds
    points = []
    while len(points) < 500:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shape.contains(shapely.Point(x, y)):
            points.append((round(x, 7), round(y, 7)))
    (workdir / "points.json").write_text(json.dumps(points))
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_minimal_incident (id uuid PRIMARY KEY, "
            "reporter_id bigint, item text, geom geometry(Point, 4326), created_at timestamptz)"
        )
        cursor.execute("TRUNCATE bench_minimal_incident")
    return grid, user


def serve(port: int, workdir: Path, database_url: str | None = None):
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "bench.intake_settings",
        "WANGGE_BENCH_MEDIA": str(workdir / "media"),
        "PYTHONPATH": str(ROOT),
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    # A file, not a pipe: nobody reads the pipe during the run, and once the warnings of a
    # database outage (a 503 each) fill it, every worker would block writing the next one.
    log = open(workdir / "gunicorn.log", "wb")  # noqa: SIM115 (the server outlives this call)
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "config.wsgi",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,  # so that stop() reaches every worker
    )
    log.close()  # gunicorn has its own copy
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    stop(process)
    sys.exit("gunicorn did not start: " + (workdir / "gunicorn.log").read_text()[-2000:])


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group, SIGKILL to whatever is left after 30 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def log_in(port: int, count: int, workdir: Path) -> list[dict]:
    """Sign `count` phones in through the login form, before any timing: each gets its own
    session, as each phone has."""
    import re
    from concurrent.futures import ThreadPoolExecutor

    import requests

    def one(_):
        session = requests.Session()
        base = f"http://127.0.0.1:{port}"
        page = session.get(f"{base}/login/").text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        answer = session.post(
            f"{base}/login/",
            data={"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token},
            allow_redirects=False,
        )
        if answer.status_code != 302 or "sessionid" not in session.cookies:
            sys.exit(f"bench login failed: {answer.status_code}")
        return {k: session.cookies[k] for k in ("sessionid", "csrftoken")}

    with ThreadPoolExecutor(2) as pool:  # one per gunicorn worker
        sessions = list(pool.map(one, range(count)))
    (workdir / "sessions.json").write_text(json.dumps(sessions))
    return sessions


def post(port: int, target: str, session: dict, key: str, point) -> int:
    import requests

    lon, lat = point
    return requests.post(
        f"http://127.0.0.1:{port}{target}",
        json={"id": key, "item": "0201", "lon": lon, "lat": lat, "severity": 1},
        cookies=session,
        headers={"X-CSRFToken": session["csrftoken"], "Referer": f"http://127.0.0.1:{port}/"},
        timeout=30,
    ).status_code


def warm_up(port: int, target: str, sessions: list[dict], workdir: Path):
    """A few requests per gunicorn worker before timing: first requests import modules and
    open connections, which is not intake."""
    points = json.loads((workdir / "points.json").read_text())
    for i in range(20):
        status = post(port, target, sessions[i % len(sessions)], str(uuid.uuid4()), points[i])
        if status != 201:
            sys.exit(f"warm-up request to {target} answered {status}")


def start_load(
    port: int,
    target: str,
    workdir: Path,
    name: str,
    users: int = USERS,
    seconds: int = SECONDS,
    stop_file: Path | None = None,
) -> subprocess.Popen:
    env = os.environ | {
        "TARGET_PATH": target,
        "POINTS_FILE": str(workdir / "points.json"),
        "ACK_FILE": str(workdir / f"{name}-acks.json"),
        "SESSIONS_FILE": str(workdir / "sessions.json"),
        "LOAD_SECONDS": str(seconds),
    }
    if stop_file:
        env["STOP_FILE"] = str(stop_file)
    return subprocess.Popen(
        [
            LOCUST,
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{seconds + 3}s",  # past the phones' own deadline: no request is cut off
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            str(workdir / name),
            "--stop-timeout",
            "15",
            "--only-summary",
            "--loglevel",
            "ERROR",
        ],
        cwd=ROOT,
        env=env,
        stdout=None if os.environ.get("BENCH_DEBUG") else subprocess.DEVNULL,
        stderr=None if os.environ.get("BENCH_DEBUG") else subprocess.DEVNULL,
        start_new_session=True,
    )


def finish_load(
    process: subprocess.Popen, workdir: Path, name: str, target: str, seconds: int = SECONDS
) -> dict:
    try:
        process.wait(timeout=seconds + 120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    with open(workdir / f"{name}_stats.csv") as stats:
        row = next(r for r in csv.DictReader(stats) if r["Name"] == "incident")
    acks = json.loads((workdir / f"{name}-acks.json").read_text())
    if not acks["answers"]:
        sys.exit(f"{target} answered nothing in round {name} (BENCH_DEBUG=1 shows locust's output)")
    return {
        "failures": int(row["Failure Count"]),
        "answers": acks["answers"],
        "acked_ids": acks["acked"],
        "sent_ids": acks["sent"],
        "statuses": acks.get("statuses", {}),
    }


def load(port: int, target: str, workdir: Path, name: str) -> dict:
    return finish_load(start_load(port, target, workdir, name), workdir, name, target)


def combine(rounds: list[dict]) -> dict:
    """One endpoint's figures over its rounds: answers per second of load (each round from its
    first to its last answer), and latency percentiles over every answer."""
    seconds = sum(
        max(at for at, _ in r["answers"]) - min(at - ms / 1000 for at, ms in r["answers"])
        for r in rounds
    )
    latencies = np.array([ms for r in rounds for _, ms in r["answers"]])
    return {
        "requests": len(latencies),
        "failures": sum(r["failures"] for r in rounds),
        "seconds": round(seconds, 1),
        "requests_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(float(np.percentile(latencies, 50)), 1),
        "p99_ms": round(float(np.percentile(latencies, 99)), 1),
    }


def resend(port: int, ids: list[str], sessions: list[dict], workdir: Path) -> dict:
    """Resend acknowledged incidents from 8 concurrent phones, as after a lost answer: each
    must be answered 200 with the stored incident, and nothing may be stored again."""
    import threading

    points = json.loads((workdir / "points.json").read_text())
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def phone(chunk, session):
        for key in chunk:
            status = post(port, "/api/incidents/", session, key, points[0])
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    threads = [
        threading.Thread(target=phone, args=(ids[i::8], sessions[i % len(sessions)]))
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"resent": len(ids), "statuses": {str(k): v for k, v in sorted(statuses.items())}}


def raw_loop(seconds: float = 5.0) -> dict:
    url = settings.DATABASES["default"]
    dsn = f"host={url['HOST']} port={url['PORT']} dbname={url['NAME']} user={url['USER']}"
    if url.get("PASSWORD"):
        dsn += f" password={url['PASSWORD']}"
    rows = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        end = time.perf_counter() + seconds
        start = time.perf_counter()
        while time.perf_counter() < end:
            conn.execute(
                "INSERT INTO bench_minimal_incident (id, reporter_id, item, geom, created_at) "
                "VALUES (%s, 0, 'raw', ST_SetSRID(ST_MakePoint(112.1, 32.7), 4326), now())",
                [uuid.uuid4()],
            )
            rows += 1
        elapsed = time.perf_counter() - start
    return {"rows": rows, "rows_per_s": round(rows / elapsed, 1)}


def durability() -> dict:
    """The three settings a crash can cost acknowledged commits with, on the default database."""
    with connection.cursor() as cursor:
        values = {}
        for name in ("fsync", "synchronous_commit", "full_page_writes"):
            cursor.execute(f"SHOW {name}")
            values[name] = cursor.fetchone()[0]
    return values


def is_durable(values: dict) -> bool:
    return all(values[name] == "on" for name in ("fsync", "synchronous_commit", "full_page_writes"))


def prepare_crash_database(workdir: Path):
    """Run inside `--prepare-crash` (DATABASE_URL naming the crash cluster): migrate, seed a
    small territory, and the bench login and points."""
    import datetime

    from core.validity import start_of
    from territory.services import to_geos

    call_command("migrate", verbosity=0)
    for level, code, parent, bounds in CRASH_TERRITORY:  # parents first: the path trigger
        Unit.objects.create(
            level=level,
            code=code,
            name=f"{level} {code}",
            parent_code=parent,
            boundary=to_geos(shapely.MultiPolygon([shapely.box(*bounds)])),
            valid_from=start_of(datetime.date(2024, 1, 1)),
        )
    prepare(workdir)


def crash_round(*, durable: bool = True) -> dict:
    """kill -9 the postmaster of a throwaway cluster while 8 phones send incidents, restart it,
    and count the acknowledged incidents that are missing."""
    began = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="wangge-crash-work-"))
    server = phones = result = None
    stages = {}  # seconds spent in each step, to keep the round bounded

    def stage(name):
        stages[name] = round(time.perf_counter() - began - sum(stages.values()), 1)

    with Cluster(durable=durable) as cluster:
        try:
            settings_in_force = cluster.settings()
            stage("cluster")
            subprocess.run(
                [sys.executable, __file__, "--prepare-crash", str(workdir)],
                cwd=ROOT,
                env=os.environ | {"DATABASE_URL": cluster.url},
                check=True,
                timeout=120,
            )
            stage("migrate_and_seed")
            port = free_port()
            server = serve(port, workdir, database_url=cluster.url)
            sessions = log_in(port, CRASH_SESSIONS, workdir)
            warm_up(port, "/api/incidents/", sessions, workdir)
            stage("serve_and_sign_in")

            def stored_count() -> int:
                with psycopg.connect(cluster.dsn) as conn:
                    return conn.execute("SELECT count(*) FROM patrols_incident").fetchone()[0]

            def wait_for_more(than: int) -> int:
                deadline = time.monotonic() + CRASH_WAIT
                while (count := stored_count()) < than + CRASH_INCIDENTS:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.25)
                return count

            # The phones' own deadline only bounds the load; it ends once enough incidents
            # were stored after the restart.
            stop_file = workdir / "stop-phones"
            load_cap = 2 * CRASH_WAIT + 90
            phones = start_load(
                port, "/api/incidents/", workdir, "crash", CRASH_USERS, load_cap, stop_file
            )
            stored_before_kill = wait_for_more(than=stored_count())
            killed_at = time.perf_counter()
            cluster.kill()
            recovery_s = cluster.start()
            down_s = time.perf_counter() - killed_at
            wait_for_more(than=stored_count())
            stop_file.touch()
            # Each phone stops after the answer it waits for; headless locust would then idle
            # until its time limit, and quits (writing the acknowledgements) on a SIGTERM.
            time.sleep(3)
            phones.send_signal(signal.SIGTERM)
            result = finish_load(phones, workdir, "crash", "/api/incidents/", load_cap)
            phones = None
            stage("load_kill_restart")
            acked = {uuid.UUID(i) for i in result["acked_ids"]}
            sent = {uuid.UUID(i) for i in result["sent_ids"]}
            with psycopg.connect(cluster.dsn) as conn:
                stored = {row[0] for row in conn.execute("SELECT id FROM patrols_incident")}
            lost = acked - stored
            # What the phones' outboxes do next: resend what got no 2xx. Each must now be
            # answered (201, or 200 if it had been stored before its answer was lost), and
            # every incident sent must then be stored exactly once.
            unanswered = sorted(str(i) for i in sent - acked)
            outbox = resend(port, unanswered, sessions, workdir) if unanswered else {}
            with psycopg.connect(cluster.dsn) as conn:
                rows = conn.execute(
                    "SELECT count(*), count(DISTINCT id) FROM patrols_incident WHERE id = ANY(%s)",
                    [list(sent)],
                ).fetchone()
        finally:
            if phones is not None:
                os.killpg(phones.pid, signal.SIGKILL)
                phones.wait()
            if server is not None:
                stop(server)
            # An outage should answer 503; anything else is a bug worth its traceback.
            server_log = None
            if result and set(result["statuses"]) - {"200", "201", "503"}:
                server_log = f"/tmp/wangge-crash-gunicorn-{os.getpid()}.log"
                shutil.copy(workdir / "gunicorn.log", server_log)
            shutil.rmtree(workdir, ignore_errors=True)
    return {
        # The round checks "lost 0" on a durable database; false only with --crash-nondurable.
        "durable_crash_round": is_durable(settings_in_force),
        "crash_settings": settings_in_force,
        "crash_phones": CRASH_USERS,
        "crash_sent": len(sent),
        "crash_stored_before_kill": stored_before_kill,
        "crash_acknowledged": len(acked),
        "crash_lost": len(lost),
        "crash_statuses": dict(sorted(result["statuses"].items())),
        "crash_stored_unacknowledged": len((stored - acked) & sent),
        "crash_down_s": round(down_s, 1),
        "crash_recovery_s": round(recovery_s, 1),
        "crash_outbox_resent": len(unanswered),
        "crash_outbox_statuses": outbox.get("statuses", {}),
        "crash_stored_after_outbox": rows[0],
        "crash_missing_after_outbox": len(sent) - rows[1],
        "crash_round_s": round(time.perf_counter() - began, 1),
        "crash_stages_s": stages,
        "crash_server_log": server_log,  # kept when an answer was neither 2xx nor 503
    }


def print_crash(figures: dict) -> None:
    kind = "durable" if figures["durable_crash_round"] else "NOT durable"
    print(
        f"crash round ({kind}: {figures['crash_settings']}): {figures['crash_phones']} phones, "
        f"kill -9 of the postmaster mid-load (after {figures['crash_stored_before_kill']} "
        f"incidents stored), down {figures['crash_down_s']} s (crash recovery "
        f"{figures['crash_recovery_s']} s); sent {figures['crash_sent']}, acknowledged "
        f"{figures['crash_acknowledged']}, lost {figures['crash_lost']}; answers "
        f"{figures['crash_statuses']}; stored without an acknowledgement "
        f"{figures['crash_stored_unacknowledged']}; outbox resent "
        f"{figures['crash_outbox_resent']}: {figures['crash_outbox_statuses']}, missing after "
        f"it {figures['crash_missing_after_outbox']}; {figures['crash_round_s']} s"
        + (
            f"; server log kept: {figures['crash_server_log']}"
            if figures["crash_server_log"]
            else ""
        )
    )


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crash-only", action="store_true", help="run the crash round alone")
    parser.add_argument(
        "--crash-nondurable",
        action="store_true",
        help="crash round with fsync and synchronous_commit off (shows what it catches)",
    )
    parser.add_argument("--prepare-crash", metavar="WORKDIR", help=argparse.SUPPRESS)
    return parser.parse_args()


def main():
    args = arguments()
    if args.prepare_crash:
        prepare_crash_database(Path(args.prepare_crash))
        return
    if args.crash_only:
        figures = crash_round(durable=not args.crash_nondurable)
        print_crash(figures)
        print(json.dumps(figures))
        return
    bench_durability = durability()
    workdir = Path(tempfile.mkdtemp(prefix="wangge-intake-"))
    grid, user = prepare(workdir)
    port = free_port()
    server = serve(port, workdir)
    try:
        print(
            f"gunicorn 2 workers on :{port}; locust {USERS} signed-in users, {ROUNDS} rounds "
            f"of {SECONDS} s per endpoint, alternating; grid {grid.code}"
        )
        sessions = log_in(port, USERS, workdir)
        warm_up(port, "/api/incidents/", sessions, workdir)
        warm_up(port, "/bench/minimal/", sessions, workdir)
        before = set(Incident.objects.filter(reporter=user).values_list("pk", flat=True))
        # Rounds alternate the two endpoints, so that a slower spell of this shared machine
        # weighs on both alike.
        rounds = {"wangge": [], "minimal": []}
        for i in range(ROUNDS):
            rounds["wangge"].append(load(port, "/api/incidents/", workdir, f"wangge-{i}"))
            rounds["minimal"].append(load(port, "/bench/minimal/", workdir, f"minimal-{i}"))
        acked_ids = [key for r in rounds["wangge"] for key in r["acked_ids"]]
        replay = resend(port, acked_ids[:300], sessions, workdir)
    finally:
        stop(server)
    wangge, minimal = combine(rounds["wangge"]), combine(rounds["minimal"])
    round_ratios = [
        round(combine([w])["requests_per_s"] / combine([m])["requests_per_s"], 3)
        for w, m in zip(rounds["wangge"], rounds["minimal"], strict=True)
    ]
    raw = raw_loop()

    stored = set(Incident.objects.filter(reporter=user).values_list("pk", flat=True)) - before
    acked = {uuid.UUID(i) for i in acked_ids}
    sent = {uuid.UUID(i) for r in rounds["wangge"] for i in r["sent_ids"]}
    lost = len(acked - stored)
    unacknowledged_but_stored = len(stored - acked)
    # Stored without an answer counted: sent while the run stopped, answered after it.
    in_flight = len((stored - acked) & sent)
    unexplained = len(stored - sent)
    duplicates = (
        Incident.objects.filter(pk__in=stored).count() - len(stored)  # ids are primary keys
    )
    figures = {
        # The benchmark database may trade durability for speed; the crash round below checks
        # "lost 0" on a durable one.
        "durable": is_durable(bench_durability),
        "durability_settings": bench_durability,
        "requests_per_s": wangge["requests_per_s"],
        "p50_ms": wangge["p50_ms"],
        "p99_ms": wangge["p99_ms"],
        "errors": wangge["failures"],
        "acknowledged": len(acked),
        "stored": len(stored),
        "lost": lost,
        "stored_unacknowledged": unacknowledged_but_stored,
        "stored_in_flight_at_stop": in_flight,
        "stored_never_sent": unexplained,
        "duplicates": duplicates,
        "resends": replay,
        "minimal": minimal,
        "rounds": ROUNDS,
        "seconds_per_round": SECONDS,
        "ratio_to_minimal_by_round": round_ratios,
        "raw": raw,
        "ratio_to_minimal": round(wangge["requests_per_s"] / minimal["requests_per_s"], 3),
        "ratio_to_raw": round(wangge["requests_per_s"] / raw["rows_per_s"], 3),
    }
    if not figures["durable"]:
        print(
            f"the throughput rounds ran on a database that is NOT durable {bench_durability}: "
            "a crash there may lose acknowledged incidents; the crash round checks a durable one"
        )
    print(f"{'':<10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'requests':>10}")
    for name, row in (("wangge", wangge), ("minimal", minimal)):
        print(
            f"{name:<10}{row['requests_per_s']:>10}{row['p50_ms']:>10}{row['p99_ms']:>10}"
            f"{row['failures']:>8}{row['requests']:>10}"
        )
    print(f"{'raw':<10}{raw['rows_per_s']:>10}  (psycopg INSERT loop, one commit each)")
    print(
        f"acknowledged {len(acked)}, stored {len(stored)} ({in_flight} answered after the load "
        f"stopped, {unexplained} never sent), lost {lost}, duplicates {duplicates}; "
        f"resent {replay['resent']} acknowledged ids from 8 phones: answers {replay['statuses']}; "
        f"ratio to minimal {figures['ratio_to_minimal']} (by round {round_ratios}), "
        f"to raw {figures['ratio_to_raw']}"
    )
    crash = crash_round(durable=not args.crash_nondurable)
    print_crash(crash)
    print(json.dumps(figures | crash))


if __name__ == "__main__":
    main()
