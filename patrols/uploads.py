"""Photo uploads (an incident's, a case event's) streamed to disk under hard limits.

Content-Length is a claim: the checks in front of the body read it, and this handler counts
what actually arrives. It stands first among the request's upload handlers, so a chunk that
would pass a limit never reaches the file on disk; the upload stops there and the rest of the
body is not read (StopUpload with connection_reset).

It also refuses a body before its first byte is read when the user may not log incidents at
all: with session authentication the CSRF check reads the form (request.POST) while the user
is being authenticated, before any view code runs, so the check must live where the body is
parsed."""

from dataclasses import dataclass

from django.core.files.uploadhandler import (
    FileUploadHandler,
    StopUpload,
    TemporaryFileUploadHandler,
)
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

NOT_A_PATROL = "your roles do not log incidents"


@dataclass(frozen=True)
class Refusal:
    status: int
    field: str
    reason: str


class IncidentUploadGuard(FileUploadHandler):
    def __init__(
        self,
        request=None,
        *,
        may_upload,
        declared: int,
        per_file: int,
        total: int,
        max_files: int,
        role_refusal: str = NOT_A_PATROL,
    ):
        super().__init__(request)
        self.may_upload = may_upload  # callable(user) -> bool
        self.role_refusal = role_refusal  # what a user may_upload refuses is told
        self.declared = declared  # the largest Content-Length taken at its word
        self.per_file, self.total, self.max_files = per_file, total, max_files
        self.received = 0
        self.in_file = 0
        self.files = 0
        self.refused: Refusal | None = None

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        user = getattr(self.request, "user", None)
        if user is None or not self.may_upload(user):
            self.refused = Refusal(403, "role", self.role_refusal)
        elif content_length > self.declared:
            self.refused = Refusal(
                400, "photos", f"upload too large (over {self.declared // 2**20} MiB)"
            )
        else:
            return None
        # Parsed as an empty form: not one byte of the body is read.
        return QueryDict(encoding=encoding), MultiValueDict()

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.files += 1
        self.in_file = 0
        if self.files > self.max_files:
            self._stop(400, f"at most {self.max_files} photos")

    def receive_data_chunk(self, raw_data, start):
        self.in_file += len(raw_data)
        self.received += len(raw_data)
        if self.in_file > self.per_file:
            self._stop(413, f"{self.file_name}: a photo is at most {self.per_file // 2**20} MiB")
        if self.received > self.total:
            self._stop(413, f"the photos are at most {self.total // 2**20} MiB in all")
        return raw_data  # on to the handler that writes it to disk

    def file_complete(self, file_size):
        return None  # the next handler makes the file

    def _stop(self, status: int, reason: str):
        self.refused = Refusal(status, "photos", reason)
        raise StopUpload(connection_reset=True)


def guard_incident_upload(request, **limits) -> IncidentUploadGuard:
    """Install the guard (and a handler that streams every file to a temporary file, never
    to memory) on a Django request whose body has not been parsed yet."""
    guard = IncidentUploadGuard(request, **limits)
    request.upload_handlers = [guard, TemporaryFileUploadHandler(request)]
    return guard
