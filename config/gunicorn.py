"""gunicorn settings for `make run` and deploy/wangge-web.service: `gunicorn -c config/gunicorn.py`.

The timeouts nest so that the innermost one fires first and answers the client: a database
statement stops at WANGGE_STATEMENT_TIMEOUT_MS (lock waits sooner), a request at
WANGGE_REQUEST_TIMEOUT_S (core.middleware.RequestDeadlineMiddleware: a 503 with its reason),
and only a worker stuck beyond both is killed by gunicorn at `timeout`."""

import multiprocessing
import os
from pathlib import Path

bind = os.environ.get("WANGGE_BIND", "127.0.0.1:8000")
wsgi_app = "config.wsgi:application"
workers = int(os.environ.get("WANGGE_WEB_WORKERS", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = int(os.environ.get("WANGGE_WORKER_TIMEOUT_S", "60"))
graceful_timeout = 20
# Boundary imports and photos are large uploads; the body limits are enforced by Django.
limit_request_line = 8190
accesslog = os.environ.get("WANGGE_ACCESS_LOG", "-")
errorlog = "-"
# One control socket per checkout (gunicorn's default is one per OS user's home).
control_socket = str(Path(__file__).resolve().parent.parent / "var" / "gunicorn.ctl")

# Inherited by every worker (read by config/settings/base.py at import).
os.environ.setdefault("WANGGE_REQUEST_TIMEOUT_S", str(max(1, timeout - 15)))
os.environ.setdefault("WANGGE_STATEMENT_TIMEOUT_MS", str(max(1, timeout - 30) * 1000))
os.environ.setdefault("WANGGE_LOCK_TIMEOUT_MS", "10000")
