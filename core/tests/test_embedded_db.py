"""The embedded database as a new user gets it: a checkout inside a 0700 folder (root's home is
one), a real cluster started by scripts/db.sh, durable and closed to other OS users."""

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def private_checkout():
    outer = Path(tempfile.mkdtemp(prefix="wangge-0700-"))  # mkdtemp makes it 0700
    assert outer.stat().st_mode & 0o777 == 0o700
    checkout = outer / "wangge"
    (checkout / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "db.sh", checkout / "scripts" / "db.sh")
    env = {**os.environ, "WANGGE_PGPORT": str(_free_port())}
    env.pop("DATABASE_URL", None)
    yield checkout, env
    subprocess.run([checkout / "scripts" / "db.sh", "destroy"], env=env, capture_output=True)
    shutil.rmtree(outer, ignore_errors=True)


def _db(checkout, env, *args):
    return subprocess.run(
        [checkout / "scripts" / "db.sh", *args], env=env, capture_output=True, text=True
    )


def test_a_checkout_in_a_0700_folder_gets_a_durable_private_cluster(private_checkout):
    checkout, env = private_checkout
    started = _db(checkout, env, "start")
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip().splitlines()[-1]
    assert url.startswith("postgis://wangge:")

    with psycopg.connect(url.replace("postgis://", "postgresql://", 1)) as conn:
        row = conn.execute(
            "select rolsuper, rolcreatedb, postgis_version() is not null"
            " from pg_roles where rolname = current_user"
        ).fetchone()
        assert row == (False, True, True)  # not a superuser; may create the test databases
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            assert conn.execute(f"show {setting}").fetchone()[0] == "on", setting
        # No COPY ... FROM PROGRAM for the application role.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("copy (select 1) to program 'true'")

    password_file = checkout / "var" / "db-password"
    assert password_file.stat().st_mode & 0o777 == 0o600
    port = (checkout / "var" / "pgport").read_text().strip()
    without_password = url.replace(f":{password_file.read_text().strip()}@", "@")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(without_password.replace("postgis://", "postgresql://", 1)).close()

    if os.getuid() == 0:
        # Another OS user gets in neither by TCP without the password nor by the socket.
        psql = "/usr/lib/postgresql/15/bin/psql"
        for args in (
            ["-h", "127.0.0.1", "-U", "wangge"],
            ["-h", "127.0.0.1", "-U", "postgres"],
            ["-h", str((checkout / "var" / "pgdata").resolve().parent / "run"), "-U", "postgres"],
        ):
            probe = subprocess.run(
                ["runuser", "-u", "nobody", "--", psql, "-w", "-p", port, "-d", "wangge",
                 *args, "-c", "select 1"],
                capture_output=True, text=True, cwd="/",
            )  # fmt: skip
            assert probe.returncode != 0, (args, probe.stdout)

    # Running it again keeps the cluster and the data; status reports it.
    with psycopg.connect(url.replace("postgis://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute("create table kept (x int); insert into kept values (7)")
    assert _db(checkout, env, "stop").returncode == 0
    again = _db(checkout, env, "start")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == url
    with psycopg.connect(url.replace("postgis://", "postgresql://", 1)) as conn:
        assert conn.execute("select x from kept").fetchone() == (7,)
    assert _db(checkout, env, "status").returncode == 0


def test_a_failed_start_stops_with_one_clear_sentence(private_checkout):
    checkout, env = private_checkout
    assert _db(checkout, env, "start").returncode == 0
    assert _db(checkout, env, "stop").returncode == 0
    # Break the cluster's configuration: the start must fail loudly, and print no URL.
    conf = (checkout / "var" / "pgdata").resolve() / "postgresql.conf"
    subprocess.run(
        ["bash", "-c", f"echo 'shared_buffers = nonsense' >> '{conf}'"], check=True
    )  # fmt: skip
    failed = _db(checkout, env, "start")
    assert failed.returncode != 0
    assert failed.stdout.strip() == ""
    assert failed.stderr.startswith("db.sh: ")
    assert "did not start" in failed.stderr


def test_settings_refuse_an_empty_database_url():
    probe = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", "import config.settings.base"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": ""},
        capture_output=True,
        text=True,
    )
    assert probe.returncode != 0
    assert "DATABASE_URL is set but empty" in probe.stderr
