"""The resident's pages: a new request (/me/requests/new/, which posts to /api/cases/ from the
page's script) and "my requests" (/me/requests/: each request's state and time limit, its
history in short, withdrawing it before dispatch and rating the result)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import coords
from core.api_errors import ApiError
from territory.models import RoleChoices
from territory.selectors import jurisdiction_for, resident_home_for, resident_units_for

from .. import flow, selectors, services
from ..api import photo_url

# What the resident may do from "my requests": the flow's own actions for them.
RESIDENT_ACTIONS = (flow.Action.WITHDRAW, flow.Action.RATE)


def _resident(request) -> None:
    # Held, not implied: a superuser holds every role but is nobody's resident.
    j = jurisdiction_for(user=request.user)
    if j.everything or RoleChoices.RESIDENT not in j.roles:
        raise PermissionDenied(_("These pages are for residents."))


def _name(item) -> str:
    english = translation.get_language() == "en"
    return (item.name_en or item.name) if english else item.name


def _map_point(point, crs) -> list[float]:
    """[lat, lon] in the basemap's CRS, for Leaflet."""
    x, y = coords.point_from_wgs84(point.x, point.y, crs)
    return [round(y, 7), round(x, 7)]


def _area(units, crs) -> dict | None:
    """The grids the resident lives in, as rings of [lat, lon] in the basemap's CRS: the map
    opens on them."""
    rings = []
    for unit in units:
        outline = unit.boundary.simplify(0.00005, preserve_topology=True)
        for polygon in outline if outline.geom_type == "MultiPolygon" else [outline]:
            rings.append([_map_point_xy(x, y, crs) for x, y in polygon.exterior_ring.coords])
    return {"rings": rings} if rings else None


def _map_point_xy(x, y, crs) -> list[float]:
    mx, my = coords.point_from_wgs84(x, y, crs)
    return [round(my, 7), round(mx, 7)]


@login_required
def request_new(request):
    _resident(request)
    crs = settings.WANGGE_BASEMAP_CRS
    home = resident_home_for(user=request.user)
    categories = [
        {
            "code": category.code,
            "name": _name(category),
            "items": [{"code": i.code, "name": _name(i)} for i in items],
        }
        for category, items in selectors.request_catalogue()
    ]
    page = {
        "crs": crs,
        "area": _area(resident_units_for(user=request.user), crs),
        "home": _map_point(home.location, crs) if home else None,
        "household": home.pk if home else None,
        "api": reverse("api-cases"),
        "done": reverse("my-requests"),
    }
    return render(
        request,
        "cases/resident_new.html",
        {
            "categories": categories,
            "home": home,
            "page": page,
            "max_photos": services.MAX_PHOTOS,
        },
    )


@login_required
def my_requests(request):
    _resident(request)
    if request.method == "POST":
        return _act(request)
    now = timezone.now()
    cases = []
    for case in selectors.requests_of(user=request.user):
        events = list(case.events.all())
        allowed = {str(a) for a in flow.allowed_actions(case.state, RoleChoices.RESIDENT)} & {
            str(a) for a in RESIDENT_ACTIONS
        }
        rating = next((e for e in reversed(events) if e.action == flow.Action.RATE), None)
        cases.append(
            {
                "case": case,
                "item": _name(case.item),
                "category": _name(case.item.parent),
                "status": flow.Status(case.status).label,
                "step": flow.Step(case.step).label if case.step else "",
                "overdue": case.due_at is not None and case.due_at < now,
                "history": [
                    {
                        "event": e,
                        "action": _action_label(e.action),
                        # The report's note is the description, shown above already.
                        "note": "" if e.action == "report" else e.note,
                        "photos": [photo_url(case.pk, p.pk) for p in e.photos.all()],
                    }
                    for e in events
                ],
                "may_withdraw": str(flow.Action.WITHDRAW) in allowed,
                "may_rate": str(flow.Action.RATE) in allowed,
                "rating_note": rating.note if rating else "",
            }
        )
    return render(
        request,
        "cases/resident_list.html",
        {
            "cases": cases,
            "stars": flow.RATINGS,
            "stars_desc": flow.RATINGS[::-1],
            "new_url": reverse("request-new"),
        },
    )


def _action_label(action: str) -> str:
    if action == "report":
        return _("Reported")
    return flow.Action(action).label if action in flow.Action.values else action


def _act(request):
    """Withdraw or rate one of the resident's own requests (the flow's `withdraw` and `rate`),
    then back to the list with what happened (PRG)."""
    data = request.POST
    action = data.get("action", "")
    case_id = data.get("case", "")
    if action not in {str(a) for a in RESIDENT_ACTIONS}:
        messages.error(request, _("Unknown action."))
        return redirect("my-requests")
    case = (
        selectors.requests_of(user=request.user)
        .filter(pk=case_id if selectors._is_int(case_id) else None)
        .first()
    )
    if case is None:
        messages.error(request, _("No such request of yours."))
        return redirect("my-requests")
    fields = {}
    if action == flow.Action.RATE:
        rating = data.get("rating", "")
        fields["rating"] = int(rating) if rating.isdigit() else None
        fields["note"] = data.get("note", "")
    else:
        fields["reason"] = data.get("reason", "")
    version = data.get("version", "")
    try:
        services.case_act(
            user=request.user,
            case=case,
            action=action,
            expected_version=int(version) if version.isdigit() else 0,
            **fields,
        )
    except ApiError as exc:
        problems = "; ".join(p.message for p in exc.problems) or str(exc)
        messages.error(
            request,
            _("%(number)s: not done (%(why)s).")
            % {
                "number": case.number,
                "why": problems,
            },
        )
    else:
        done = _("Thank you for your rating.") if action == flow.Action.RATE else _("Withdrawn.")
        messages.success(request, f"{case.number}: {done}")
    return redirect(f"{reverse('my-requests')}#case-{case.pk}")
