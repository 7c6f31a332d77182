"""Load for bench/intake.py: workers posting incidents with phone-made ids. Every
acknowledged id is written to ACK_FILE when the run stops, so the benchmark can check what
was stored (the benchmark then resends some of them, as a phone does after a lost answer), with
the time and latency of every answer."""

import itertools
import json
import os
import random
import time
import uuid
from pathlib import Path

from locust import events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

TARGET = os.environ["TARGET_PATH"]
POINTS = json.loads(Path(os.environ["POINTS_FILE"]).read_text())
ACKED: dict[str, int] = {}  # id -> status of the first acknowledgement
SENT: set[str] = set()  # every id sent (an answer may still be on its way when the run stops)
# Answers by status; 0 is a broken connection. Only a 200 or 201 acknowledges an incident:
# what a request in flight gets when the database dies (a 5xx, or no answer) does not.
STATUSES: dict[str, int] = {}
# Phones stop sending at the deadline but finish the request under way, so every request sent
# has its answer (locust's own time limit would cut requests off mid-flight).
DEADLINE = time.time() + float(os.environ["LOAD_SECONDS"])
# The crash round ends the load earlier, once enough has been answered after the restart.
STOP_FILE = os.environ.get("STOP_FILE")
ANSWERS: list[tuple[float, float]] = []  # (answered at, response time in ms) of each incident


SESSIONS = json.loads(Path(os.environ["SESSIONS_FILE"]).read_text())
_next_session = itertools.count()


class Worker(FastHttpUser):
    """A phone that is already signed in (as phones are for days): logging in is not part of
    the intake being measured, and its password hashing would crowd the first seconds."""

    def on_start(self):
        session = SESSIONS[next(_next_session) % len(SESSIONS)]
        self.headers = {
            "Cookie": f"sessionid={session['sessionid']}; csrftoken={session['csrftoken']}",
            "X-CSRFToken": session["csrftoken"],
            "Referer": self.host,
        }

    @task
    def log_incident(self):
        if time.time() > DEADLINE or (STOP_FILE and os.path.exists(STOP_FILE)):
            raise StopUser()
        key = str(uuid.uuid4())
        lon, lat = random.choice(POINTS)
        SENT.add(key)
        sent_at = time.time()
        with self.client.post(
            TARGET,
            json={"id": key, "item": "0201", "lon": lon, "lat": lat, "severity": 1},
            headers=self.headers,
            name="incident",
            catch_response=True,
        ) as response:
            status = str(response.status_code or 0)
            STATUSES[status] = STATUSES.get(status, 0) + 1
            if response.status_code in (200, 201):
                answered_at = time.time()
                ANSWERS.append((answered_at, (answered_at - sent_at) * 1000))
                ACKED.setdefault(key, response.status_code)
                response.success()
            else:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")


@events.quitting.add_listener
def write_acks(environment, **kwargs):
    with open(os.environ["ACK_FILE"], "w") as out:
        json.dump(
            {"acked": list(ACKED), "sent": list(SENT), "answers": ANSWERS, "statuses": STATUSES},
            out,
        )
