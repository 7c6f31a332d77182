"""A throwaway PostgreSQL 15 cluster for the intake benchmark's crash round.

Durable by default (PostgreSQL's own fsync, synchronous_commit and full_page_writes), so that
"nothing acknowledged is lost" is checked on the settings a real deployment runs with; the
nondurable variant exists to show that the round does catch losses. Loopback only, with
scram-sha-256 and a generated password, and the socket in a directory only the cluster's owner
can enter: no other local user can reach it.
"""

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PGBIN = Path("/usr/lib/postgresql/15/bin")
SUPERUSER = "wangge"
DBNAME = "wangge_crash"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> set[int]:
    """The processes whose parent is `pid`. PostgreSQL's backends each lead a process group of
    their own, so killing the postmaster's group would not reach them."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # pid (comm) state ppid ...: comm may hold spaces, so split after its parenthesis.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _postgres(pid: int) -> bool:
    """Still a live PostgreSQL process (and not a reused pid, nor a zombie)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"postgres" in cmdline and "State:\tZ" not in status


class Cluster:
    """initdb, start, kill -9, restart and remove one cluster; a context manager that removes
    the cluster and every process of it whatever happens."""

    def __init__(self, *, durable: bool = True):
        self.durable = durable
        self.port = _free_port()
        self.password = secrets.token_hex(16)
        # initdb and pg_ctl refuse to run as root: the cluster then belongs to `postgres`,
        # which must be able to enter its directory (root's own temp dirs are 0700).
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.root = Path(tempfile.mkdtemp(prefix="wangge-crash-", dir="/tmp"))
        self.data = self.root / "data"
        self.run = self.root / "run"
        self.log = self.root / "postgres.log"
        self.orphans: set[int] = set()  # children of a killed postmaster, for the cleanup

    @property
    def url(self) -> str:
        return f"postgis://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{DBNAME}"

    @property
    def dsn(self) -> str:
        return (
            f"host=127.0.0.1 port={self.port} dbname={DBNAME} user={SUPERUSER} "
            f"password={self.password}"
        )

    def _owner(self, *command: str, timeout: float = 60) -> None:
        # cwd /tmp: the postgres user may not be able to enter the checkout.
        subprocess.run(
            [*self.as_owner, *command],
            cwd="/tmp",
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def __enter__(self) -> "Cluster":
        try:
            self._create()
            self.start()
            self._create_database()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def _create(self) -> None:
        self.run.mkdir(mode=0o700)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        self.log.touch()
        if self.as_owner:
            for path in (self.root, self.run, pwfile, self.log):
                shutil.chown(path, "postgres", "postgres")
        try:
            self._owner(
                str(PGBIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
        finally:
            pwfile.unlink()
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.run}'",
            "max_connections = 40",
            "jit = off",
        ]
        if not self.durable:  # what the benchmark database trades for speed
            settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("\n".join(settings) + "\n")

    def start(self) -> float:
        """pg_ctl start, waiting until it accepts connections (after a crash: until crash
        recovery is done). Returns the seconds it took."""
        began = time.perf_counter()
        try:
            self._owner(
                str(PGBIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                "start",
                timeout=75,
            )  # fmt: skip
        except subprocess.CalledProcessError as error:
            log = self.log.read_text(errors="replace")[-1500:]
            raise RuntimeError(
                f"the crash cluster did not start: {error.stderr!r}\n{log}"
            ) from None
        return time.perf_counter() - began

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])

    def kill(self, *, wait: float = 10.0) -> int:
        """kill -9 the postmaster, as a crash would. Its backends notice that it died and exit
        on their own; any still there after `wait` seconds get a SIGKILL too, since a new
        postmaster refuses to start while they hold the old shared memory. Returns the pid."""
        pid = self.postmaster_pid()
        self.orphans |= _children(pid)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + wait
        while any(map(_postgres, self.orphans)) and time.monotonic() < deadline:
            time.sleep(0.05)
        self._kill_orphans()
        # A new postmaster refuses to start while the old pid still exists, and a dead one
        # exists as a zombie until its parent (init, pg_ctl having exited) reaps it. Give the
        # reaping time; if the init of this machine never reaps, the pid is dead all the same
        # and its lock file is stale.
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline + 5:
            time.sleep(0.05)
        if Path(f"/proc/{pid}").exists() and not _postgres(pid):
            (self.data / "postmaster.pid").unlink()
        return pid

    def _kill_orphans(self) -> None:
        for orphan in self.orphans:
            if _postgres(orphan):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(orphan, signal.SIGKILL)

    def settings(self) -> dict[str, str]:
        import psycopg

        with psycopg.connect(self.dsn) as conn:
            return {
                name: conn.execute(f"SHOW {name}").fetchone()[0]
                for name in ("fsync", "synchronous_commit", "full_page_writes")
            }

    def _create_database(self) -> None:
        import psycopg

        admin = self.dsn.replace(f"dbname={DBNAME}", "dbname=postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DBNAME}")
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute("SET client_min_messages = warning")
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    def remove(self) -> None:
        """Stop the cluster (immediate: nothing in it is worth a checkpoint), kill whatever of
        it is left (the orphans of a killed postmaster included), and delete its files."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(OSError, ValueError):
                self.orphans |= {self.postmaster_pid()} | _children(self.postmaster_pid())
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self._owner(
                    str(PGBIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop",
                    timeout=30,
                )  # fmt: skip
        self._kill_orphans()
        shutil.rmtree(self.root, ignore_errors=True)
