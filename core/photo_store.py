"""Writing photo files beside the rows that name them, for every app that keeps photos (an
incident's, a case event's): the one rule for a full or unwritable store, and for the files a
failed transaction leaves behind.

A file system has no rollback: the files are written before their rows commit, so when the
transaction fails (a row refused, the commit's deferred checks, a full disk) the files it wrote
are deleted again. The checks of the photos themselves (decoding, limits, metadata dropped) are
patrols.photos; the streamed upload's limits are patrols.uploads."""

import contextlib
import errno
import logging
import posixpath

from django.core.files.base import ContentFile

from .api_errors import ApiError, Problem

log = logging.getLogger(__name__)


class PhotoStoreFull(ApiError):
    """The photo directory's disk (or quota) is full: HTTP 507, the phone sends it again later."""

    status = 507
    code = "insufficient_storage"


class PhotoStoreUnavailable(ApiError):
    """The photo directory cannot be written (read-only, no permission): HTTP 503."""

    status = 503
    code = "service_unavailable"
    retry_after = 300


_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}


def store_error(exc: OSError, *, where: str = "photos") -> ApiError:
    if exc.errno in _DISK_FULL:
        return PhotoStoreFull([Problem(where, "the photo store is full; nothing was stored")])
    why = "is read-only" if exc.errno in _READ_ONLY else f"failed ({exc.strerror or exc})"
    return PhotoStoreUnavailable([Problem(where, f"the photo store {why}; nothing was stored")])


@contextlib.contextmanager
def files_removed_on_failure():
    """Yields the list `store` records the files it writes in, as (storage, name). When the
    block fails, the files it wrote are deleted, with a file a failed write left half-made (or
    empty), and their folder when nothing else is in it. Inside an outer transaction that rolls
    back later, they stay (Django has no rollback hook)."""
    written: list = []
    try:
        yield written
    except BaseException:
        folders = {}
        for storage, name in written:
            folders[(id(storage), posixpath.dirname(name))] = (storage, posixpath.dirname(name))
            try:
                storage.delete(name)
            except OSError:
                log.exception("could not delete the photo file %s of a failed write", name)
        for storage, folder in folders.values():
            with contextlib.suppress(OSError, ValueError):
                if folder and storage.exists(folder) and storage.listdir(folder) == ([], []):
                    storage.delete(folder)
        raise


def store(field_file, filename: str, data: bytes, written: list) -> None:
    """Save one file of a photo row. Its name is recorded before the write: a write that
    fails (ENOSPC) has already created the file."""
    storage, max_length = field_file.storage, field_file.field.max_length
    name = storage.get_available_name(
        field_file.field.generate_filename(field_file.instance, filename), max_length=max_length
    )
    written.append((storage, name))
    try:
        stored = storage.save(name, ContentFile(data), max_length=max_length)
    except OSError as exc:
        raise store_error(exc) from exc
    if stored != name:  # taken meanwhile: the storage chose another name
        written.append((storage, stored))
    setattr(field_file.instance, field_file.field.attname, stored)
