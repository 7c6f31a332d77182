"""Backups: the database and the media files (incident photos) in one dated archive, and the
restore of such an archive into an empty database.

An archive is an uncompressed tar (the dump is compressed already, and so are the JPEGs):

    database.dump   pg_dump's custom format
    media/...       every file under MEDIA_ROOT
    manifest.json   written last, so an archive cut short has none: migrations, row counts
                    per table, the sha256 of the dump and of every media file, server version

Consistency. pg_dump reads one snapshot, exported by a REPEATABLE READ transaction that also
takes the manifest's row counts and the list of media files the rows name, so dump and
manifest describe the same instant. The photo intake (patrols/services.py `_attach`) writes
each file completely before it inserts the row naming it, and that row commits later still:
every file a row in the snapshot names is on disk before the snapshot was taken. Copying
MEDIA_ROOT after the dump therefore contains every referenced file. It may also contain files
of transactions that committed after the snapshot, or are still running or failing (their
files are deleted on failure); the manifest lists those as unreferenced: they are harmless
(a restored row never names them). A referenced file missing from the disk is listed as
missing: that is damage older than the backup, reported, not hidden.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import dj_database_url
import psycopg
from psycopg import sql

FORMAT = "wangge-backup"
FORMAT_VERSION = 1
DUMP_NAME = "database.dump"
MANIFEST_NAME = "manifest.json"
MEDIA_PREFIX = "media/"
ARCHIVE_NAME = re.compile(r"^wangge-(\d{4}-\d{2}-\d{2}T\d{6}Z)\.tar$")
_STAMP = "%Y-%m-%dT%H%M%SZ"
_CHUNK = 1024 * 1024

# Tables and views that belong to an extension (PostGIS's spatial_ref_sys, geometry_columns)
# come with the extension, not with the data: they are neither counted nor make a database
# "not empty".
_USER_RELATIONS = """
SELECT n.nspname, c.relname, c.relkind
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
   AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
 ORDER BY 1, 2
"""


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what was left."""


# --- connections ------------------------------------------------------------------------


def connection_params(settings_dict: dict) -> dict:
    """libpq keywords from a Django DATABASES entry (or a parsed DATABASE_URL)."""
    params = {
        "dbname": settings_dict.get("NAME") or "",
        "user": settings_dict.get("USER") or "",
        "password": settings_dict.get("PASSWORD") or "",
        "host": settings_dict.get("HOST") or "",
        "port": str(settings_dict.get("PORT") or ""),
    }
    options = settings_dict.get("OPTIONS") or {}
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey", "passfile", "service"):
        if options.get(key):
            params[key] = str(options[key])
    return {key: value for key, value in params.items() if value}


def params_from_url(url: str) -> dict:
    try:
        return connection_params(dj_database_url.parse(url))
    except ValueError as error:
        raise BackupError(f"cannot read the database URL: {error}") from None


def _connect(params: dict, **kwargs) -> psycopg.Connection:
    try:
        return psycopg.connect(**params, application_name="wangge-backup", **kwargs)
    except psycopg.OperationalError as error:
        where = f"{params.get('host', 'local socket')}:{params.get('port', '5432')}"
        raise BackupError(
            f"cannot connect to database {params.get('dbname')!r} on {where}: {error}"
        ) from None


_ENV = {
    "host": "PGHOST",
    "port": "PGPORT",
    "user": "PGUSER",
    "dbname": "PGDATABASE",
    "password": "PGPASSWORD",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
}


def _client_env(params: dict) -> dict:
    """The connection for pg_dump/pg_restore, in their environment: a command line (password
    included) is visible to every user of the machine in `ps`, the environment is not."""
    env = dict(os.environ)
    env.update({_ENV[key]: value for key, value in params.items() if key in _ENV})
    env["PGAPPNAME"] = "wangge-backup"
    return env


def client_binary(name: str, *, server_major: int, bin_dir: str = "") -> Path:
    """pg_dump/pg_restore of the server's major version. An older client refuses a newer
    server, and a newer one writes archives an older pg_restore cannot read; Debian installs
    every major version side by side under /usr/lib/postgresql/N/bin."""
    candidates = (
        [Path(bin_dir) / name]
        if bin_dir
        else [Path(f"/usr/lib/postgresql/{server_major}/bin/{name}")]
        + ([Path(found)] if (found := shutil.which(name)) else [])
    )
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            major = _client_major(path)
            if major is not None and major >= server_major:
                return path
    where = bin_dir or f"/usr/lib/postgresql/{server_major}/bin or PATH"
    raise BackupError(
        f"no {name} for PostgreSQL {server_major} in {where}: install "
        f"postgresql-client-{server_major} (or set WANGGE_PG_BIN to its bin directory)"
    )


def _client_major(path: Path) -> int | None:
    try:
        out = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    match = re.search(r"\) (\d+)", out)
    return int(match.group(1)) if match else None


def _run(command: list, *, params: dict, what: str) -> subprocess.CompletedProcess:
    try:
        # errors="replace": a damaged dump can make pg_restore print bytes that are no text.
        done = subprocess.run(
            command, env=_client_env(params), capture_output=True, text=True, errors="replace"
        )
    except OSError as error:
        raise BackupError(f"{what} could not start: {error}") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()[-2000:] or "no message"
        raise BackupError(f"{what} failed (exit {done.returncode}): {detail}")
    return done


# --- what the database holds ------------------------------------------------------------


def user_tables(cursor) -> list[str]:
    cursor.execute(_USER_RELATIONS)
    return [f"{schema}.{name}" for schema, name, kind in cursor.fetchall() if kind in "rp"]


def user_relations(cursor) -> list[str]:
    cursor.execute(_USER_RELATIONS)
    return [f"{schema}.{name}" for schema, name, _ in cursor.fetchall()]


def row_counts(cursor) -> dict[str, int]:
    counts = {}
    for qualified in user_tables(cursor):
        schema, name = qualified.split(".", 1)
        cursor.execute(
            sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(name)
            )
        )
        counts[qualified] = cursor.fetchone()[0]
    return counts


def _extension_config_rows(cursor) -> dict[str, int]:
    """Rows pg_dump writes for an extension's configuration tables (for PostGIS: SRIDs added
    to spatial_ref_sys by hand; none in this project). The restore skips an empty entry: even
    an empty COPY needs INSERT on the table, which a non-superuser lacks."""
    cursor.execute(
        """SELECT n.nspname, c.relname, COALESCE(e.extcondition[i], '')
             FROM pg_extension e, generate_subscripts(e.extconfig, 1) AS i,
                  pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.oid = e.extconfig[i] AND c.relkind = 'r'"""
    )
    counts = {}
    for schema, name, condition in cursor.fetchall():
        cursor.execute(
            sql.SQL("SELECT count(*) FROM {}.{} ").format(
                sql.Identifier(schema), sql.Identifier(name)
            )
            + sql.SQL(condition)
        )
        counts[f"{schema}.{name}"] = cursor.fetchone()[0]
    return counts


def _migrations(cursor) -> dict[str, list[str]]:
    cursor.execute("SELECT to_regclass('django_migrations') IS NOT NULL")
    if not cursor.fetchone()[0]:
        return {}
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, id")
    applied: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        applied.setdefault(app, []).append(name)
    return applied


def _referenced_media(cursor) -> set[str]:
    """Every file name a FileField of a model stores, read in the snapshot."""
    from django.apps import apps
    from django.db.models import FileField

    names: set[str] = set()
    cursor.execute(_USER_RELATIONS)
    present = {name for schema, name, _ in cursor.fetchall() if schema == "public"}
    for model in apps.get_models():
        if model._meta.db_table not in present:
            continue
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, FileField):
                cursor.execute(
                    sql.SQL("SELECT {col} FROM {table} WHERE {col} <> ''").format(
                        col=sql.Identifier(model_field.column),
                        table=sql.Identifier(model._meta.db_table),
                    )
                )
                names.update(row[0] for row in cursor.fetchall())
    return names


# --- backup -----------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    size: int
    manifest: dict
    pruned: list[Path] = field(default_factory=list)


def archive_name(at: datetime.datetime) -> str:
    return f"wangge-{at.astimezone(datetime.UTC).strftime(_STAMP)}.tar"


def backup(
    *,
    settings_dict: dict,
    media_root: Path,
    output: Path,
    bin_dir: str = "",
    keep: int | None = None,
    keep_weekly: int = 0,
    keep_monthly: int = 0,
    now: datetime.datetime | None = None,
) -> BackupResult:
    """Write one archive. `output` is a directory (the archive gets a dated name in it) or a
    path ending in .tar. Nothing appears under the final name until the archive is complete;
    a failure leaves nothing behind. Pruning (keep-last-N, plus the newest archive of each of
    the last weeks and months) runs only after a success, on dated archives only."""
    now = now or datetime.datetime.now(datetime.UTC)
    output = Path(output)
    target = output if output.suffix == ".tar" else output / archive_name(now)
    if target.exists():
        raise BackupError(f"{target} exists already: nothing was written")
    # The archives hold personal data (names, phones): readable by the operator only.
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    params = connection_params(settings_dict)
    media_root = Path(media_root)

    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".wangge-backup-") as work:
        work = Path(work)
        dump = work / DUMP_NAME
        with _connect(params) as snapshot:
            snapshot.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            snapshot.read_only = True
            with snapshot.cursor() as cursor:
                cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
                snapshot_id, server_version = cursor.fetchone()
                server_major = snapshot.info.server_version // 10000
                pg_dump = client_binary("pg_dump", server_major=server_major, bin_dir=bin_dir)
                cursor.execute("SELECT extname, extversion FROM pg_extension ORDER BY 1")
                extensions = dict(cursor.fetchall())
                tables = row_counts(cursor)
                config_rows = _extension_config_rows(cursor)
                migrations = _migrations(cursor)
                referenced = _referenced_media(cursor)
            # The exporting transaction stays open until pg_dump has read the snapshot.
            _run(
                [
                    str(pg_dump),
                    "--format=custom",
                    "--no-password",
                    f"--snapshot={snapshot_id}",
                    f"--file={dump}",
                ],
                params=params,
                what="pg_dump",
            )
            snapshot.rollback()
        if not dump.is_file():
            raise BackupError("pg_dump wrote no dump: nothing was written")

        partial = work / "archive.tar"
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            dump_sha = _add_file(tar, dump, DUMP_NAME)
            media = {}
            for relative, path in _media_files(media_root):
                with contextlib.suppress(FileNotFoundError):  # a failed intake's, just deleted
                    media[relative] = {
                        "sha256": _add_file(tar, path, MEDIA_PREFIX + relative),
                        "size": path.stat().st_size,
                    }
            manifest = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "created_at": now.astimezone(datetime.UTC).isoformat(),
                "database": {
                    "name": params.get("dbname", ""),
                    "server_version": server_version,
                    "pg_dump": str(pg_dump),
                    "file": DUMP_NAME,
                    "sha256": dump_sha,
                    "size": dump.stat().st_size,
                    "extensions": extensions,
                    "extension_config_rows": config_rows,
                    "migrations": migrations,
                    "tables": tables,
                },
                "media": {
                    "files": media,
                    "referenced": sorted(referenced & media.keys()),
                    "unreferenced": sorted(media.keys() - referenced),
                    "missing": sorted(referenced - media.keys()),
                },
            }
            data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST_NAME)
            info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o644
            tar.addfile(info, _BytesReader(data))
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        partial.chmod(0o600)
        # A hard link fails when the name exists (a rename would silently replace it).
        try:
            os.link(partial, target)
        except FileExistsError:
            raise BackupError(f"{target} appeared meanwhile: nothing was written") from None
        _fsync_dir(target.parent)

    pruned = []
    if keep is not None:
        pruned = prune(target.parent, keep=keep, keep_weekly=keep_weekly, keep_monthly=keep_monthly)
    return BackupResult(path=target, size=target.stat().st_size, manifest=manifest, pruned=pruned)


class _BytesReader:
    def __init__(self, data: bytes):
        self._data, self._at = data, 0

    def read(self, n=-1):
        end = len(self._data) if n is None or n < 0 else self._at + n
        chunk, self._at = self._data[self._at : end], min(end, len(self._data))
        return chunk


class _Hashing:
    """Hashes what tarfile reads, so each file is read once and the sum is of the bytes
    archived (not of a second read that might differ)."""

    def __init__(self, handle):
        self._handle, self.sha = handle, hashlib.sha256()

    def read(self, n=-1):
        chunk = self._handle.read(n)
        self.sha.update(chunk)
        return chunk


def _add_file(tar: tarfile.TarFile, path: Path, name: str) -> str:
    with open(path, "rb") as handle:
        info = tar.gettarinfo(arcname=name, fileobj=handle)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        reader = _Hashing(handle)
        tar.addfile(info, reader)
        return reader.sha.hexdigest()


def _media_files(root: Path):
    """(posix path relative to root, path) of every regular file, in a stable order. Links
    are skipped: a photo is never one, and following one could archive files outside."""
    if not root.is_dir():
        return
    for directory, subdirs, files in os.walk(root):
        subdirs.sort()
        for name in sorted(files):
            path = Path(directory) / name
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(root).as_posix(), path


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- retention --------------------------------------------------------------------------


def archives_to_prune(
    names: list[str], *, keep: int, keep_weekly: int = 0, keep_monthly: int = 0
) -> list[str]:
    """The dated archives beyond the newest `keep`, except the newest of each of the last
    `keep_weekly` ISO weeks and of the last `keep_monthly` months (grandfather-father-son).
    Other names are never touched."""
    if keep < 1:
        raise BackupError("--keep must be at least 1 (the archive just written)")
    dated = sorted(
        (
            (datetime.datetime.strptime(m.group(1), _STAMP), name)
            for name in names
            if (m := ARCHIVE_NAME.match(name))
        ),
        reverse=True,
    )
    kept = {name for _, name in dated[:keep]}
    for count, period in ((keep_weekly, _week), (keep_monthly, _month)):
        seen: set = set()
        for at, name in dated:
            if len(seen) >= count:
                break
            if period(at) not in seen:
                seen.add(period(at))
                kept.add(name)
    return [name for _, name in dated if name not in kept]


def _week(at: datetime.datetime):
    return at.isocalendar()[:2]


def _month(at: datetime.datetime):
    return at.year, at.month


def prune(directory: Path, *, keep: int, keep_weekly: int = 0, keep_monthly: int = 0) -> list:
    doomed = archives_to_prune(
        [entry.name for entry in Path(directory).iterdir() if entry.is_file()],
        keep=keep,
        keep_weekly=keep_weekly,
        keep_monthly=keep_monthly,
    )
    for name in doomed:
        (Path(directory) / name).unlink()
    return [Path(directory) / name for name in doomed]


# --- restore ----------------------------------------------------------------------------


@dataclass
class RestoreResult:
    database: str
    tables: int
    rows: int
    media_files: int
    unknown_migrations: list[str]
    pending_migrations: list[str]


def _damaged(archive: Path, why: str) -> BackupError:
    return BackupError(
        f"{archive} is damaged or incomplete ({why}); nothing was restored. "
        "Use another archive, or copy this one again from where it is kept."
    )


def read_manifest(archive: Path) -> dict:
    try:
        with tarfile.open(archive, "r:") as tar:
            manifest = json.load(tar.extractfile(tar.getmember(MANIFEST_NAME)))
    except KeyError:
        raise _damaged(archive, f"it has no {MANIFEST_NAME}, which is written last") from None
    except (tarfile.TarError, EOFError, OSError, ValueError) as error:
        raise _damaged(archive, str(error) or type(error).__name__) from None
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        raise _damaged(archive, "not a Wangge backup of a format this version reads")
    return manifest


def _verify_and_extract_dump(archive: Path, manifest: dict, into: Path) -> Path:
    """Read the whole archive once: write the dump to `into`, check every sum against the
    manifest. Nothing else is touched before the archive has proven whole."""
    files = manifest["media"]["files"]
    seen = set()
    dump = into / DUMP_NAME
    try:
        with tarfile.open(archive, "r:") as tar:
            for member in tar:
                name = member.name
                if name == MANIFEST_NAME:
                    continue
                if not member.isreg():
                    raise _damaged(archive, f"unexpected entry {name!r}")
                if name == DUMP_NAME:
                    expected = manifest["database"]["sha256"]
                elif name.startswith(MEDIA_PREFIX) and name[len(MEDIA_PREFIX) :] in files:
                    expected = files[name[len(MEDIA_PREFIX) :]]["sha256"]
                else:
                    raise _damaged(archive, f"{name!r} is not in its manifest")
                with open(dump, "wb") if name == DUMP_NAME else contextlib.nullcontext() as sink:
                    actual = _copy_hashing(tar.extractfile(member), sink)
                if actual != expected:
                    raise _damaged(archive, f"the checksum of {name!r} does not match")
                seen.add(name)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise _damaged(archive, str(error) or type(error).__name__) from None
    wanted = {DUMP_NAME} | {MEDIA_PREFIX + name for name in files}
    if missing := sorted(wanted - seen):
        raise _damaged(archive, f"{len(missing)} entries are missing, e.g. {missing[0]!r}")
    return dump


def _copy_hashing(source, sink) -> str:
    sha = hashlib.sha256()
    while chunk := source.read(_CHUNK):
        sha.update(chunk)
        if sink is not None:
            sink.write(chunk)
    return sha.hexdigest()


def _media_target(media_root: Path, relative: str) -> Path:
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(f"refusing the media path {relative!r}: it leaves the media folder")
    return media_root.joinpath(*path.parts)


def _restore_list(pg_restore: Path, dump: Path, manifest: dict, params: dict, work: Path) -> Path:
    """pg_restore's table of contents without what a non-superuser may not do and the target
    has already: the comment on an extension (only its owner may comment; the extension
    comes with template1) and empty data entries of extension tables (see
    _extension_config_rows)."""
    listing = _run([str(pg_restore), "--list", str(dump)], params=params, what="pg_restore --list")
    empty = {
        name for name, count in manifest["database"]["extension_config_rows"].items() if not count
    }
    kept = []
    for line in listing.stdout.splitlines():
        if re.search(r"\bCOMMENT - EXTENSION \S+", line):
            continue
        data = re.search(r"\bTABLE DATA (\S+) (\S+) ", line)
        if data and f"{data.group(1)}.{data.group(2)}" in empty:
            continue
        kept.append(line)
    path = work / "restore.list"
    path.write_text("\n".join(kept) + "\n")
    return path


def restore(
    *, archive: Path, params: dict, media_root: Path, media_overwrite: bool = False, bin_dir=""
) -> RestoreResult:
    """Restore an archive into an empty database and an empty media folder.

    The checks that refuse come first (the target holds tables, the media folder holds files,
    the archive is damaged) and change nothing. pg_restore then runs as one transaction: it
    restores everything or nothing. The media files follow, each written under a temporary
    name and renamed; last, every table's row count is compared with the manifest."""
    archive, media_root = Path(archive), Path(media_root)
    if not archive.is_file():
        raise BackupError(f"no archive at {archive}")
    manifest = read_manifest(archive)
    dbname = params.get("dbname", "")

    with _connect(params, autocommit=True) as target, target.cursor() as cursor:
        if present := user_relations(cursor):
            raise BackupError(
                f"database {dbname!r} is not empty ({len(present)} tables, views or sequences, "
                f"e.g. {present[0]}); a restore goes into an empty database only, so it "
                "cannot mix with or overwrite live data. Create an empty one "
                "(createdb -T template1) and restore into it; nothing was changed."
            )
        server_major = target.info.server_version // 10000
        cursor.execute("SELECT extname FROM pg_extension")
        installed = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
    lacking = sorted(set(manifest["database"]["extensions"]) - installed)
    if lacking and not superuser:
        raise BackupError(
            f"database {dbname!r} lacks the extension(s) {', '.join(lacking)} and "
            f"{params.get('user', 'this role')!r} may not create them: create the database "
            "from template1 (which has PostGIS) or have a superuser run CREATE EXTENSION "
            "in it; nothing was changed."
        )
    media_files = manifest["media"]["files"]
    if media_root.is_dir() and any(_media_files(media_root)) and not media_overwrite:
        raise BackupError(
            f"the media folder {media_root} is not empty; restore into an empty one "
            "(--media-root) or pass --media-overwrite to write the archive's files over it; "
            "nothing was changed."
        )
    pg_restore = client_binary("pg_restore", server_major=server_major, bin_dir=bin_dir)

    with tempfile.TemporaryDirectory(prefix="wangge-restore-") as work:
        work = Path(work)
        dump = _verify_and_extract_dump(archive, manifest, work)
        listing = _restore_list(pg_restore, dump, manifest, params, work)
        try:
            _run(
                [
                    str(pg_restore),
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--single-transaction",
                    "--no-password",
                    f"--use-list={listing}",
                    f"--dbname={dbname}",
                    str(dump),
                ],
                params=params,
                what="pg_restore",
            )
        except BackupError as error:
            hint = (
                f" The role {params.get('user')!r} may not do this: restore as the owner of "
                "these objects or a superuser."
                if re.search(r"permission denied|must be owner", str(error))
                else ""
            )
            raise BackupError(
                f"{error}\nThe restore ran as one transaction: database {dbname!r} is as empty "
                f"as before.{hint}"
            ) from None

    written = _restore_media(archive, media_files, media_root)

    with _connect(params, autocommit=True) as target, target.cursor() as cursor:
        counts = row_counts(cursor)
        applied = _migrations(cursor)
    expected = manifest["database"]["tables"]
    if counts != expected:
        differ = sorted(
            name
            for name in expected.keys() | counts.keys()
            if counts.get(name) != expected.get(name)
        )
        raise BackupError(
            f"database {dbname!r} was restored but differs from the manifest in "
            f"{len(differ)} tables, e.g. {differ[0]}: "
            f"{counts.get(differ[0])} rows instead of {expected.get(differ[0])}"
        )
    unknown, pending = _migration_gap(applied)
    return RestoreResult(
        database=dbname,
        tables=len(counts),
        rows=sum(counts.values()),
        media_files=written,
        unknown_migrations=unknown,
        pending_migrations=pending,
    )


def _restore_media(archive: Path, files: dict, media_root: Path) -> int:
    media_root.mkdir(parents=True, exist_ok=True)
    written = 0
    with tarfile.open(archive, "r:") as tar:
        for member in tar:
            if not member.name.startswith(MEDIA_PREFIX):
                continue
            relative = member.name[len(MEDIA_PREFIX) :]
            path = _media_target(media_root, relative)
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.restoring")
            with open(partial, "wb") as sink:
                actual = _copy_hashing(tar.extractfile(member), sink)
                os.fsync(sink.fileno())
            if actual != files[relative]["sha256"]:
                partial.unlink()
                raise BackupError(
                    f"{member.name} changed while it was restored; the database is restored, "
                    "the media folder is incomplete: run the restore's media part again"
                )
            os.replace(partial, path)
            written += 1
    return written


def _migration_gap(applied: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """Migrations the restored database has and this code does not know (the archive comes
    from newer code), and those this code has and the database lacks (run migrate)."""
    from django.db.migrations.loader import MigrationLoader

    on_disk = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    in_db = {(app, name) for app, names in applied.items() for name in names}
    apps_on_disk = {app for app, _ in on_disk}
    unknown = sorted(f"{a}.{n}" for a, n in in_db - on_disk if a in apps_on_disk)
    pending = sorted(f"{a}.{n}" for a, n in on_disk - in_db)
    return unknown, pending
