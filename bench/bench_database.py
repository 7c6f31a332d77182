"""The benchmark database alone trades durability for speed: commits there do not wait for the
disk (synchronous_commit off for this database only; the cluster keeps fsync and full page
writes, and every other database keeps synchronous commits). A crash may lose the last
benchmark rows, never corrupt them. Run by `make bench` before the benchmarks; it says so."""

import os
import sys

import psycopg


def main() -> None:
    url = os.environ["DATABASE_URL"].replace("postgis://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as conn:
        name = conn.execute("select current_database()").fetchone()[0]
        if not name.endswith("bench"):
            sys.exit(f"bench_database: refusing to trade durability on {name!r} (not a bench db)")
        conn.execute(f'alter database "{name}" set synchronous_commit = off')
    print(f"bench: database {name} runs with synchronous_commit=off (not durable, by design)")


if __name__ == "__main__":
    main()
