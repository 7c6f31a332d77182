"""The command screen's page (/command/), the commanders' home: the map and its panel are drawn
by static/command/screen.js from the API under /api/command/; the page brings the catalogue,
statuses and sources for the filters and the words of the panel."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cases.flow import Status
from cases.models import Source
from cases.selectors import request_catalogue

from . import selectors


@login_required
def screen_page(request):
    if not selectors.may_command(user=request.user):
        raise PermissionDenied("the command screen is for commanders")
    english = (get_language() or "").startswith("en")

    def name(entry):
        return (entry.name_en if english else entry.name) or entry.name

    categories = [
        {
            "code": c.code,
            "name": name(c),
            "items": [{"code": i.code, "name": name(i)} for i in items],
        }
        for c, items in request_catalogue()
    ]
    return render(
        request,
        "command/screen.html",
        {
            "categories": categories,
            "statuses": Status.choices,
            "sources": Source.choices,
            "periods": selectors.PERIODS,
            "today": selectors.today().isoformat(),
            "text": _text(),
        },
    )


def _text() -> dict:
    """The words screen.js shows, in the user's language (set as text, never as markup)."""
    return {
        "households": _("Households"),
        "cases": _("Cases"),
        "casesPer100": _("Cases per 100 households"),
        "overdueRate": _("Overdue rate"),
        "coverage": _("Patrol coverage"),
        "noData": _("no households"),
        "hot": _("Hot spot"),
        "cold": _("Cold spot"),
        "confidence": _("confidence"),
        "notSignificant": _("not significant"),
        "cells": _("cells"),
        "perCell": _("per cell, up to"),
        "previous": _("previous period"),
        "reported": _("Cases reported"),
        "on_time_closing_rate": _("On-time closing"),
        "overdue": _("Overdue (red cards)"),
        "rework": _("Rework"),
        "satisfaction_avg": _("Satisfaction"),
        "red": _("Red card"),
        "yellow": _("Yellow card"),
        "due": _("due"),
        "noCards": _("No open cards."),
        "more": _("More cards than shown: narrow the territory."),
        "lastSeen": _("last seen"),
        "visitedToday": _("Visited today"),
        "noWorkers": _("No worker positions in the last 30 days."),
        "drill": _("Show this unit"),
        "failed": _("Could not load:"),
        "week": _("Week of"),
        "play": _("Replay weeks"),
        "pause": _("Pause"),
        "zoomIn": _("Zoom in"),
        "zoomOut": _("Zoom out"),
        "levels": {
            "city": _("City"),
            "county": _("County / district"),
            "township": _("Township / street"),
            "village": _("Village / community"),
            "grid": _("Grid"),
            "microgrid": _("Micro-grid"),
        },
    }
