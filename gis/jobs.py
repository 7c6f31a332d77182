"""Running long jobs (batch re-divisions) off the request: a daemon thread per job, started
after the transaction that queued it commits. There is no queue service on a county intranet
server; a job's state lives in its row, so a page can poll it. With WANGGE_JOBS_INLINE (tests,
commands) the job runs in the caller, synchronously."""

import logging
import threading

from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)


def start(function, **kwargs) -> None:
    if getattr(settings, "WANGGE_JOBS_INLINE", False):
        function(**kwargs)
        return

    def run():
        try:
            function(**kwargs)
        except Exception:
            log.exception("job %s failed", function.__name__)
        finally:
            connection.close()

    threading.Thread(target=run, name=f"wangge-{function.__name__}", daemon=True).start()
