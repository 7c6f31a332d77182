"""Operations endpoints: /healthz for monitoring, the API root, and /favicon.ico."""

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponseRedirect, JsonResponse
from django.templatetags.static import static
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.tasks import stalled_after_seconds

# Applied migrations stay applied for the life of the process (new ones come with new code,
# hence a restart), so once they are all in, /healthz stops asking.
_migrations_applied = False


def _migrations_state() -> str:
    global _migrations_applied
    if not _migrations_applied:
        executor = MigrationExecutor(connection)
        _migrations_applied = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return "ok" if _migrations_applied else "pending"


def _worker_state() -> str:
    """ "ok" when some task worker beat within the stall timeout, "stale" when workers are
    registered but silent (dead, or hung), "none" when no worker runs."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER ("
            "  WHERE last_heartbeat > now() - make_interval(secs => %s)"
            ") FROM procrastinate_workers",
            [stalled_after_seconds()],
        )
        registered, alive = cursor.fetchone()
    if alive:
        return "ok"
    return "stale" if registered else "none"


@never_cache
@require_safe
def healthz(request):
    """For monitoring, without login: whether the database answers, every migration is applied
    and a task worker is alive. 200 when all is well, 503 otherwise; nothing else is told."""
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        state = {"database": "ok", "migrations": _migrations_state(), "worker": _worker_state()}
    except DatabaseError:
        state = {"database": "error", "migrations": "unknown", "worker": "unknown"}
    healthy = state == {"database": "ok", "migrations": "ok", "worker": "ok"}
    state["status"] = "ok" if healthy else "degraded"
    return JsonResponse(state, status=200 if healthy else 503)


def _api_names(patterns, prefix=""):
    """(name, route) of every named URL under api/ that takes no argument, in urls.py order."""
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _api_names(p.url_patterns, route)
        elif (
            isinstance(p, URLPattern)
            and p.name
            and route.startswith("api/")
            and route != "api/"
            and not getattr(p.pattern, "converters", None)
            and "<" not in route
        ):
            yield p.name


@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links (and the admin links none): send
    them to the static file, whose URL carries its hash in production."""
    return HttpResponseRedirect(static("wangge/icons/favicon.ico"))


class ApiRoot(APIView):
    @extend_schema(
        responses={
            200: {"type": "object", "additionalProperties": {"type": "string", "format": "uri"}}
        },
        description="Every endpoint that takes no path argument: its name and absolute URL. "
        "Endpoints for one object (/api/units/{code}/ and the like) are in the schema.",
    )
    def get(self, request):
        names = dict.fromkeys(_api_names(get_resolver().url_patterns))
        return Response(
            {name.removeprefix("api-"): request.build_absolute_uri(reverse(name)) for name in names}
        )
