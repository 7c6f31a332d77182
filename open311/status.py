"""A case's status (cases.flow.Status) as GeoReport v2 sees it: `open` ("it has been reported")
or `closed` ("it has been resolved"). Pure.

Handled (中心消单) stays open: the community may still send it back for rework (返工). Verified
(社区核单) is closed: the result is confirmed, only its publication (晒单) and the resident's
rating remain. Rejected, cancelled and merged are closed too; their reason goes into
`status_notes`."""

from cases.flow import Status

from .params import CLOSED, OPEN

CLOSED_STATUSES = frozenset(
    {Status.VERIFIED, Status.PUBLISHED, Status.REJECTED, Status.CANCELLED, Status.MERGED}
)


def open311_status(status: str) -> str:
    """`open` or `closed` for a stored status; an unknown one is refused (ValueError), never
    guessed."""
    return CLOSED if Status(status) in CLOSED_STATUSES else OPEN


def case_statuses(open311: str) -> frozenset[Status]:
    """The case statuses a GET requests `status=open|closed` filter stands for."""
    return frozenset(s for s in Status if open311_status(s) == open311)
