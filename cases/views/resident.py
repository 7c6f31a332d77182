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
from rest_framework import serializers

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


class ResidentActSerializer(serializers.Serializer):
    """The body of a withdraw or rate form on "my requests" (like every body: a serializer)."""

    action = serializers.ChoiceField(choices=[str(a) for a in RESIDENT_ACTIONS])
    case = serializers.IntegerField(min_value=1)
    version = serializers.IntegerField(min_value=0, required=False, default=0)
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


def _act(request):
    """Withdraw or rate one of the resident's own requests (the flow's `withdraw` and `rate`),
    then back to the list with what happened (PRG)."""
    body = ResidentActSerializer(data=request.POST)
    if not body.is_valid():
        if "action" in body.errors:
            messages.error(request, _("Unknown action."))
        else:
            why = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in body.errors.items())
            messages.error(request, _("Not done (%(why)s).") % {"why": why})
        return redirect("my-requests")
    data = body.validated_data
    action = data["action"]
    case = selectors.requests_of(user=request.user).filter(pk=data["case"]).first()
    if case is None:
        messages.error(request, _("No such request of yours."))
        return redirect("my-requests")
    fields = {}
    if action == flow.Action.RATE:
        fields["rating"] = data.get("rating")
        fields["note"] = data["note"]
    else:
        fields["reason"] = data["reason"]
    try:
        services.case_act(
            user=request.user,
            case=case,
            action=action,
            expected_version=data["version"],
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
