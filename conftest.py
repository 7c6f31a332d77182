"""Shared fixtures: a small but real territory (valid rectangles that tile exactly) with one
household per leaf, and one user per role attached to it."""

from dataclasses import dataclass

import pytest
from django.contrib.gis.geos import Point
from rest_framework.test import APIClient

from demo.layout import SMALL_TERRITORY
from territory.services import role_assign
from territory.tests.factories import HouseholdFactory, UnitFactory, UserFactory, box

LAYOUT = SMALL_TERRITORY  # see demo/layout.py for the picture
HOUSEHOLD_POINTS = {
    "A1a-south": (112.02, 32.62),
    "A1a-north": (112.02, 32.68),
    "A1b": (112.07, 32.65),
    "B1a": (112.15, 32.65),
}
# role -> (unit code, households visible, personal data in clear)
ROLES = {
    "commander": ("411381", {"A1a-south", "A1a-north", "A1b", "B1a"}, False),
    "township_commander": ("411381001", {"A1a-south", "A1a-north", "A1b"}, False),
    "village_officer": ("411381001001", {"A1a-south", "A1a-north", "A1b"}, True),
    "grid_chief": ("411381001001001", {"A1a-south", "A1a-north"}, True),
    "grid_worker": ("411381001001001", {"A1a-south", "A1a-north"}, True),
    "microgrid_worker": ("41138100100100101", {"A1a-south"}, True),
    "volunteer": ("411381001001", {"A1a-south", "A1a-north", "A1b"}, False),
    "department_staff": ("411381", {"A1a-south", "A1a-north", "A1b", "B1a"}, False),
    "resident": ("411381001001002", set(), False),
}


@dataclass
class Territory:
    units: dict
    households: dict
    users: dict


@pytest.fixture
def territory(db):
    _patrol_seed()
    units = {}
    for level, code, parent, bounds in LAYOUT:
        units[code] = UnitFactory(
            level=level,
            code=code,
            parent_code=parent,
            boundary=box(*bounds),
            name=f"{level}-{code}",
        )
    households = {
        key: HouseholdFactory(location=Point(x, y, srid=4326), address=f"{key} 1号")
        for key, (x, y) in HOUSEHOLD_POINTS.items()
    }
    for h in households.values():
        h.refresh_from_db()
    users = {}
    for name, (code, _, _) in ROLES.items():
        user = UserFactory(username=name)
        role = "commander" if name == "township_commander" else name
        role_assign(user=user, role=role, unit_code=code)
        users[name] = user
    users["admin"] = UserFactory(username="admin", is_superuser=True, is_staff=True)
    return Territory(units=units, households=households, users=users)


@pytest.fixture
def api():
    def client_for(user):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


def _patrol_seed():
    """The visit policy, the catalogue and its service terms come from migrations; a
    transactional test (the browser tests) flushes them at its end, so put them back when
    missing, and forget the catalogue a process keeps in memory."""
    from cases import catalogue as terms
    from cases.models import ServiceTerms, StepLimit
    from patrols import catalogue, selectors
    from patrols.models import IncidentCategory, VisitPolicy

    selectors._ITEMS["at"] = 0.0
    if not IncidentCategory.objects.exists() or not VisitPolicy.objects.exists():
        catalogue.seed(VisitPolicy, IncidentCategory)
    if not ServiceTerms.objects.exists():
        terms.seed(IncidentCategory, ServiceTerms, StepLimit)
