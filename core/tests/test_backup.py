"""Backup and restore against the real PostGIS server: a round trip into a new database,
and the refusals (a database or media folder that is not empty, a damaged archive, a
missing or failing pg_dump) that change nothing."""

import datetime
import hashlib
import io
import json
import os
import tarfile
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from PIL import Image
from psycopg import sql

from core import backup
from patrols import services
from patrols.models import IncidentPhoto

FILE_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def _params(**override):
    return backup.connection_params(connection.settings_dict) | override


def _url(params):
    auth = quote(params.get("user", ""), safe="")
    if params.get("password"):
        auth += ":" + quote(params["password"], safe="")
    host = f"{params.get('host', '')}:{params['port']}" if "port" in params else params["host"]
    return f"postgis://{auth}@{host}/{params['dbname']}"


def _server():
    """A connection to the maintenance database, outside every transaction (CREATE DATABASE
    cannot run in one)."""
    return psycopg.connect(**_params(dbname="postgres"), autocommit=True)


@pytest.fixture
def restorer():
    """The role a restore runs as: never a superuser (the embedded cluster's app role is not
    one). When the tests run as a superuser, a throwaway role with CREATEDB stands in."""
    with _server() as server:
        if not server.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()[0]:
            yield _params()
            return
        name = f"{connection.settings_dict['NAME']}_restorer"
        password = uuid.uuid4().hex
        server.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
        server.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER CREATEDB PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(password)
            )
        )
        try:
            yield _params(user=name, password=password)
        finally:
            server.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.fixture
def new_database():
    """Makes empty databases from template1 (which has PostGIS) owned by a role, as a county
    would before a restore; drops them at the end."""
    made = []

    def make(owner_params=None):
        owner = (owner_params or _params())["user"]
        name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
        with _server() as server:
            server.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE template1").format(
                    sql.Identifier(name), sql.Identifier(owner)
                )
            )
        made.append(name)
        return (owner_params or _params()) | {"dbname": name}

    yield make
    with _server() as server:
        for name in made:
            server.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _state(params) -> dict:
    """What must survive a round trip: the row count and the content of every table (each
    row as text, geometries as hex EWKB), and every sequence's position."""
    with psycopg.connect(**params) as conn, conn.cursor() as cursor:
        counts = backup.row_counts(cursor)
        contents = {}
        for qualified in counts:
            schema, name = qualified.split(".", 1)
            table = sql.Identifier(schema, name)
            cursor.execute(
                sql.SQL("SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {} t").format(
                    table
                )
            )
            contents[qualified] = cursor.fetchone()[0]
        cursor.execute(
            "SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences "
            "WHERE schemaname = 'public' ORDER BY 1"
        )
        sequences = dict(cursor.fetchall())
    return {"counts": counts, "contents": contents, "sequences": sequences}


def _sums(root: Path) -> dict:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _archive(output: Path) -> Path:
    (archive,) = output.glob("wangge-*.tar")
    return archive


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_new_database_with_every_row_and_photo(
    territory, settings, tmp_path, restorer, new_database
):
    # The photo files go to a real folder, not the tests' in-memory storage.
    settings.STORAGES = settings.STORAGES | {"default": FILE_STORAGE}
    settings.MEDIA_ROOT = tmp_path / "media"
    services.incident_create(
        user=territory.users["grid_worker"],
        incident_id=uuid.uuid4(),
        item_code="0201",
        lon=112.02,
        lat=32.62,
        description="垃圾堆放",
        photo_files=[("a.png", _photo())],
    )
    photo = IncidentPhoto.objects.get()
    stray = settings.MEDIA_ROOT / "incidents" / "left-by-a-failed-upload.jpg"
    stray.write_bytes(b"not referenced")
    source = _state(_params())
    assert source["counts"]["public.territory_household"] == 4

    out = io.StringIO()
    call_command("backup", output=str(tmp_path / "backups"), stdout=out)
    archive = _archive(tmp_path / "backups")
    assert str(archive) in out.getvalue()
    assert archive.stat().st_mode & 0o777 == 0o600  # names and phones: the operator only
    with tarfile.open(archive) as tar:
        assert tar.getnames()[0] == "database.dump" and tar.getnames()[-1] == "manifest.json"
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["database"]["tables"] == source["counts"]
    assert manifest["database"]["migrations"]["patrols"][0] == "0001_initial"
    assert manifest["media"]["referenced"] == sorted([photo.image.name, photo.thumbnail.name])
    assert manifest["media"]["unreferenced"] == ["incidents/left-by-a-failed-upload.jpg"]
    assert manifest["media"]["missing"] == []
    assert (
        manifest["media"]["files"][photo.image.name]["sha256"]
        == hashlib.sha256((settings.MEDIA_ROOT / photo.image.name).read_bytes()).hexdigest()
    )

    target = new_database(restorer)
    restored_media = tmp_path / "restored-media"
    out = io.StringIO()
    call_command(
        "restore",
        str(archive),
        database_url=_url(target),
        media_root=str(restored_media),
        stdout=out,
    )
    assert "all matching the manifest" in out.getvalue()
    assert _state(target) == source
    assert _sums(restored_media) == _sums(settings.MEDIA_ROOT)


@pytest.mark.django_db
def test_a_database_that_is_not_empty_is_refused_and_keeps_what_it_had(
    settings, tmp_path, new_database
):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("backup", output=str(tmp_path / "backups"), stdout=io.StringIO())
    target = new_database()
    with psycopg.connect(**target) as conn:
        conn.execute("CREATE TABLE notes (body text)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")
    before = _state(target)
    assert before["counts"] == {"public.notes": 1}

    with pytest.raises(CommandError, match="is not empty .*public.notes.*nothing was changed"):
        call_command(
            "restore",
            str(_archive(tmp_path / "backups")),
            database_url=_url(target),
            media_root=str(tmp_path / "restored-media"),
        )
    assert _state(target) == before
    assert not (tmp_path / "restored-media").exists()


@pytest.mark.django_db
def test_a_media_folder_that_is_not_empty_is_refused_unless_overwrite_is_asked(
    settings, tmp_path, new_database
):
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media" / "incidents").mkdir(parents=True)
    (tmp_path / "media" / "incidents" / "a.jpg").write_bytes(b"photo")
    call_command("backup", output=str(tmp_path / "backups"), stdout=io.StringIO())
    archive = str(_archive(tmp_path / "backups"))
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "other.jpg").write_bytes(b"someone else's")
    target = new_database()

    with pytest.raises(CommandError, match="media folder .* is not empty"):
        call_command("restore", archive, database_url=_url(target), media_root=str(occupied))
    assert _state(target)["counts"] == {}
    assert _sums(occupied) == {"other.jpg": hashlib.sha256(b"someone else's").hexdigest()}

    call_command(
        "restore",
        archive,
        database_url=_url(target),
        media_root=str(occupied),
        media_overwrite=True,
        stdout=io.StringIO(),
    )
    assert (occupied / "incidents" / "a.jpg").read_bytes() == b"photo"


def _cut_in_half(path: Path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _cut_before_manifest(path: Path):
    with tarfile.open(path) as tar:
        offset = tar.getmember("manifest.json").offset
    data = path.read_bytes()
    path.write_bytes(data[:offset])


def _flip_a_dump_byte(path: Path):
    with tarfile.open(path) as tar:
        at = tar.getmember("database.dump").offset_data + 100
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "damage, reason",
    [
        (_cut_in_half, "unexpected end of data|it has no manifest.json"),
        (_cut_before_manifest, "it has no manifest.json"),
        (_flip_a_dump_byte, "the checksum of 'database.dump' does not match"),
    ],
)
def test_a_damaged_archive_is_refused_before_anything_is_written(
    damage, reason, settings, tmp_path, new_database
):
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "a.jpg").write_bytes(os.urandom(50_000))
    call_command("backup", output=str(tmp_path / "backups"), stdout=io.StringIO())
    archive = _archive(tmp_path / "backups")
    damage(archive)
    target = new_database()

    with pytest.raises(CommandError, match=f"damaged or incomplete \\(({reason})"):
        call_command(
            "restore",
            str(archive),
            database_url=_url(target),
            media_root=str(tmp_path / "restored-media"),
        )
    with psycopg.connect(**target) as conn, conn.cursor() as cursor:
        assert backup.user_relations(cursor) == []
    assert not (tmp_path / "restored-media").exists()


def _rewrite_manifest(path: Path, change):
    with tarfile.open(path) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for member, data in members:
            if member.name == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data))


@pytest.mark.django_db
def test_a_restore_that_fails_half_way_leaves_the_database_as_empty_as_before(
    settings, tmp_path, restorer, new_database
):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("backup", output=str(tmp_path / "backups"), stdout=io.StringIO())
    archive = _archive(tmp_path / "backups")
    # Claim a hand-added SRID: pg_restore then copies into spatial_ref_sys, which the
    # restoring role (no superuser) may not write, after it has created every table.
    _rewrite_manifest(
        archive,
        lambda m: m["database"]["extension_config_rows"].update({"public.spatial_ref_sys": 1}),
    )
    target = new_database(restorer)
    # Where the restoring role owns PostGIS's table (a cluster whose extension it created while
    # it was a superuser), it still may not write it once it gives up that right itself.
    with psycopg.connect(**target, autocommit=True) as conn:
        conn.execute("revoke insert on public.spatial_ref_sys from current_user")

    with pytest.raises(
        CommandError, match="(?s)permission denied for table spatial_ref_sys.*is as empty as before"
    ):
        call_command(
            "restore",
            str(archive),
            database_url=_url(target),
            media_root=str(tmp_path / "restored-media"),
        )
    with psycopg.connect(**target) as conn, conn.cursor() as cursor:
        assert backup.user_relations(cursor) == []


@pytest.mark.django_db
def test_without_pg_dump_the_backup_is_refused_and_leaves_no_file(settings, tmp_path):
    settings.WANGGE_PG_BIN = str(tmp_path / "empty-bin")
    with pytest.raises(CommandError, match="no pg_dump for PostgreSQL 1[0-9] in .*empty-bin"):
        call_command("backup", output=str(tmp_path / "backups"))
    assert list((tmp_path / "backups").iterdir()) == []


FAILING_PG_DUMP = """#!/bin/sh
if [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) 99.1"; exit 0; fi
echo "$@" > "$LOG/args"
env > "$LOG/env"
for arg; do case "$arg" in --file=*) echo half > "${arg#--file=}";; esac; done
echo "pg_dump: error: connection to server lost" >&2
exit 1
"""


@pytest.mark.django_db
def test_a_failing_pg_dump_leaves_no_half_archive_and_never_sees_the_password_in_argv(
    settings, tmp_path, monkeypatch
):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pg_dump").write_text(FAILING_PG_DUMP)
    (bin_dir / "pg_dump").chmod(0o755)
    monkeypatch.setenv("LOG", str(tmp_path))
    # The tests' server trusts loopback, so a made-up password connects too.
    password = connection.settings_dict["PASSWORD"] or "s3cret-for-the-test"

    with pytest.raises(backup.BackupError, match="pg_dump failed .*connection to server lost"):
        backup.backup(
            settings_dict=connection.settings_dict | {"PASSWORD": password},
            media_root=tmp_path / "media",
            output=tmp_path / "backups",
            bin_dir=str(bin_dir),
        )
    assert list((tmp_path / "backups").iterdir()) == []
    assert password not in (tmp_path / "args").read_text()
    assert f"PGPASSWORD={password}\n" in (tmp_path / "env").read_text()


@pytest.mark.django_db
def test_keep_prunes_old_dated_archives_after_a_success_and_nothing_else(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    output = tmp_path / "backups"
    output.mkdir()
    old = ["wangge-2020-01-01T000000Z.tar", "wangge-2020-01-02T000000Z.tar"]
    for name in [*old, "notes.txt", "wangge-manual.tar"]:
        (output / name).write_text("x")
    out = io.StringIO()
    call_command("backup", output=str(output), keep=2, stdout=out)
    names = sorted(path.name for path in output.iterdir())
    assert names == sorted(["notes.txt", "wangge-manual.tar", old[1], _archive_name_in(names)])
    assert f"pruned {output / old[0]}" in out.getvalue()


def _archive_name_in(names):
    (new,) = [n for n in names if backup.ARCHIVE_NAME.match(n) and not n.startswith("wangge-2020")]
    return new


def test_retention_keeps_the_last_days_and_the_newest_of_each_week_and_month():
    start = datetime.datetime(2026, 1, 1, 2, 0)
    names = [
        backup.archive_name((start + datetime.timedelta(days=d)).replace(tzinfo=datetime.UTC))
        for d in range(120)
    ]
    doomed = set(backup.archives_to_prune(names, keep=14, keep_weekly=8, keep_monthly=12))
    kept = [n for n in names if n not in doomed]
    assert names[-14:] == kept[-14:]  # the last 14 nights
    days = [datetime.datetime.strptime(n[7:24], "%Y-%m-%dT%H%M%S") for n in kept]
    weeks = {d.isocalendar()[:2] for d in days}
    months = {(d.year, d.month) for d in days}
    assert len(weeks) >= 8 and months == {(2026, m) for m in range(1, 5)}
    # Each kept older archive is the last one of its week or its month.
    for day in days[:-14]:
        nxt = day + datetime.timedelta(days=1)
        assert nxt.isocalendar()[:2] != day.isocalendar()[:2] or nxt.month != day.month
    assert len(kept) < 14 + 8 + 12
    assert backup.archives_to_prune(["other.tar", *names[:3]], keep=3) == []
