"""The case desk (案件台) for the station, the centre and the handlers: `/cases/`, the list with
its filters and map (its rows come from /api/cases/, page.js asks the API with the page's own
query string), and `/cases/<pk>/`, one case with the time left on its step, its cards, its
history and the actions the user may take (posted to /api/cases/{id}/act/ by desk_case.js).
A resident has "my requests" instead: the desk is a 403 for them; a case outside one's reach is
a 404 (the selectors raise it)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core import coords
from patrols.selectors import catalogue
from territory.codes import Level
from territory.models import RoleChoices
from territory.selectors import units_for_user

from .. import flow, selectors
from ..api import CaseDetailSerializer
from ..flow import Action, Field, Status
from ..models import CardColour, Source

# The grids offered in the list's grid filter (a datalist: any code may still be typed).
GRID_CHOICES = 500


def _desk_user(request):
    if not selectors.may_use_case_desk(user=request.user):
        raise PermissionDenied("the case desk is for staff; residents follow their requests")


def _english() -> bool:
    return (get_language() or "").startswith("en")


@login_required
def desk_page(request):
    _desk_user(request)
    english = _english()
    categories, items = [], {}
    for entry in catalogue():
        name = (entry.name_en if english else entry.name) or entry.name
        if entry.parent_id is None:
            categories.append({"code": entry.code, "name": name, "items": []})
            items[entry.code] = categories[-1]["items"]
        elif entry.parent.code in items:
            items[entry.parent.code].append({"code": entry.code, "name": name})
    grids = (
        units_for_user(user=request.user)
        .filter(level=Level.GRID)
        .order_by("code")
        .values_list("code", "name")[:GRID_CHOICES]
    )
    chosen = {name: request.GET.get(name, "") for name in ("status", "item", "grid", "card")}
    chosen["overdue"] = request.GET.get("overdue", "") in ("1", "true", "yes", "on")
    return render(
        request,
        "cases/desk.html",
        {
            "statuses": Status.choices,
            "categories": categories,
            "grids": list(grids),
            "cards": [
                ("none", _("No card")),
                (CardColour.YELLOW, CardColour.YELLOW.label),
                (CardColour.RED, CardColour.RED.label),
            ],
            "chosen": chosen,
            "text": {
                "statuses": {value: str(label) for value, label in Status.choices},
                "cards": {"yellow": _("Yellow card"), "red": _("Red card")},
                "due": _("due"),
                "overdue": _("overdue"),
                "estimated": _("estimated"),
                "count": _("%(count)s cases"),
                "page": _("page %(page)s of %(pages)s"),
                "page_open": _("page %(page)s"),
                "english": english,
            },
        },
    )


def _time_left(case, now):
    """The running step's deadline and the working hours left (negative: overdue by)."""
    if case.due_at is None:
        return None
    left = selectors.working_calendar().working_hours_between(now, case.due_at)
    hours = left.hours
    return {
        "due_at": case.due_at,
        "hours": round(abs(hours), 1),
        "overdue": case.card == CardColour.RED,
        "estimated": case.estimated or left.estimated,
    }


# What each field of an action asks for, in the order the form shows them.
FIELD_ORDER = (
    Field.ASSIGNEE,
    Field.DEPARTMENT,
    Field.DUPLICATE_OF,
    Field.RATING,
    Field.NOTE,
    Field.REASON,
)


def _action_forms(actions):
    forms = []
    for name in actions:
        transition = flow.TRANSITIONS[Action(name)]
        forms.append(
            {
                "action": name,
                "label": transition.action.label,
                "fields": [str(f.value) for f in FIELD_ORDER if f in transition.required],
            }
        )
    return forms


@login_required
def case_page(request, pk):
    _desk_user(request)
    now = timezone.now()
    # The API's own representation of the case (the contact masked as it masks it).
    context = {
        "request": request,
        "crs": coords.WGS84,
        "now": now,
        "contact_shown": selectors.contact_shown(user=request.user),
    }
    case = selectors.case_for_user(user=request.user, pk=pk, now=now)
    actions = selectors.allowed_actions_for(user=request.user, case=case)
    events = selectors.case_history(user=request.user, case=case)
    context.update(history=events, allowed_actions=actions)
    data = CaseDetailSerializer(case, context=context).data
    forms = _action_forms(actions)
    needs = {f for form in forms for f in form["fields"]}
    # The first event is the report (群众点单), not an action of the flow's table.
    action_labels = {"report": _("Raised"), **{str(a.value): a.label for a in Action}}
    field_labels = {"source": _("source"), **{str(f.value): f.label for f in Field}}
    sources = dict(Source.choices)
    status_labels = dict(Status.choices)
    history = [
        {
            **event,
            "action_label": action_labels.get(event["action"], event["action"]),
            "to_label": status_labels.get(event["to_status"], event["to_status"]),
            "recorded": [
                (
                    field_labels.get(name, name),
                    sources.get(value, value) if name == "source" else value,
                )
                for name, value in sorted((event.get("fields") or {}).items())
            ],
            # Photos come with the resident's part; without them the key is absent.
            "photos": event.get("photos") or [],
            "at": model.at,
        }
        for event, model in zip(data["history"], events, strict=True)
    ]
    item = case.item
    english = _english()
    return render(
        request,
        "cases/desk_case.html",
        {
            "case": case,
            "data": data,
            "item_name": (item.name_en if english else item.name) or item.name,
            "category_name": (
                (item.parent.name_en if english else item.parent.name) or item.parent.name
                if item.parent_id
                else ""
            ),
            "status_label": case.get_status_display(),
            "step_label": case.get_step_display() if case.step else "",
            "time_left": _time_left(case, now),
            "cards": list(selectors.case_cards(case=case)),
            "history": history,
            "forms": forms,
            "departments": (
                list(selectors.departments_of_case_county(case=case))
                if Field.DEPARTMENT in needs
                else []
            ),
            "ratings": list(flow.RATINGS),
            "config": {
                "id": case.pk,
                "version": case.version,
                "actUrl": reverse("api-case-act", args=[case.pk]),
                "suggestionsUrl": reverse("api-case-suggestions", args=[case.pk]),
                "wantsSuggestions": bool({Field.ASSIGNEE, Field.DUPLICATE_OF} & needs),
                "text": {
                    "stale": _(
                        "Someone else acted on this case first. It is shown again as it is "
                        "now: check it before you act."
                    ),
                    "done": _("Done: %(action)s."),
                    "failed": _("Refused: %(detail)s"),
                    "roles": {value: str(label) for value, label in RoleChoices.choices},
                    "metres": _("%(metres)s m"),
                },
            },
        },
    )
