"""Benchmark: incident intake under the production setup.

gunicorn (2 sync workers, production settings) serves the project on 127.0.0.1; locust
(headless, a second process) plays grid workers, signed in beforehand, posting incidents with
phone-made ids. Afterwards the stored incidents are compared with the acknowledged ones: none
may be lost, none duplicated. On the same server, in rounds alternating with the project's:
- minimal: a DRF endpoint doing one raw PostGIS INSERT (session auth, no grid lookup, no
  validation, no idempotency, no audit): what a careful peer would ship.
Then raw: a psycopg INSERT loop, one commit per row: the database's limit here.
After the load, 300 acknowledged ids are resent from 8 concurrent phones (a retry after a lost
answer): each must be answered 200, and nothing stored again. The last printed line is one
JSON object.
"""

import csv
import json
import os
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

from gis.models import RoleAssignment, Unit  # noqa: E402
from patrols.models import Incident  # noqa: E402

USERS = int(os.environ.get("BENCH_INTAKE_USERS", "16"))
SECONDS = int(os.environ.get("BENCH_INTAKE_SECONDS", "10"))  # per round
ROUNDS = int(os.environ.get("BENCH_INTAKE_ROUNDS", "5"))
USERNAME, PASSWORD = "bench_worker", "bench-worker-pw"
BIN = Path(sys.executable).parent


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


def serve(port: int, workdir: Path):
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "bench.intake_settings",
        "WANGGE_BENCH_MEDIA": str(workdir / "media"),
        "PYTHONPATH": str(ROOT),
    }
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
        stderr=subprocess.PIPE,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit("gunicorn did not start: " + process.stderr.read().decode()[-2000:])


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


def load(port: int, target: str, workdir: Path, name: str) -> dict:
    prefix = workdir / name
    env = os.environ | {
        "TARGET_PATH": target,
        "POINTS_FILE": str(workdir / "points.json"),
        "ACK_FILE": str(workdir / f"{name}-acks.json"),
        "SESSIONS_FILE": str(workdir / "sessions.json"),
        "LOAD_SECONDS": str(SECONDS),
    }
    subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "-u",
            str(USERS),
            "-r",
            str(USERS),
            "-t",
            f"{SECONDS + 3}s",  # past the phones' own deadline: no request is cut off
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            str(prefix),
            "--stop-timeout",
            "15",
            "--only-summary",
            "--loglevel",
            "ERROR",
        ],
        cwd=ROOT,
        env=env,
        check=False,
        stdout=None if os.environ.get("BENCH_DEBUG") else subprocess.DEVNULL,
        stderr=None if os.environ.get("BENCH_DEBUG") else subprocess.DEVNULL,
        timeout=SECONDS + 120,
    )
    with open(f"{prefix}_stats.csv") as stats:
        row = next(r for r in csv.DictReader(stats) if r["Name"] == "incident")
    acks = json.loads((workdir / f"{name}-acks.json").read_text())
    if not acks["answers"]:
        sys.exit(f"{target} answered nothing in round {name} (BENCH_DEBUG=1 shows locust's output)")
    return {
        "failures": int(row["Failure Count"]),
        "answers": acks["answers"],
        "acked_ids": acks["acked"],
        "sent_ids": acks["sent"],
    }


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


def main():
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
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
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
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
