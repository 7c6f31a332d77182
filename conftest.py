"""Shared fixtures: a small but real territory (valid rectangles that tile exactly) with one
household per leaf, and one user per role attached to it."""

from dataclasses import dataclass

import pytest
from django.contrib.gis.geos import Point
from rest_framework.test import APIClient

from territory.services import role_assign
from territory.tests.factories import HouseholdFactory, UnitFactory, UserFactory, box

# county 411381: [112.0, 112.2] x [32.6, 32.7]
#   township A 411381001 (west half) > village A1 411381001001 (all of A)
#       grid A1a 411381001001001 (west) > micro-grids ...00101 (south), ...00102 (north)
#       grid A1b 411381001001002 (east)
#   township B 411381101 (east half) > village B1 411381101201 > grid B1a 411381101201001
LAYOUT = [
    ("county", "411381", "", (112.0, 32.6, 112.2, 32.7)),
    ("township", "411381001", "411381", (112.0, 32.6, 112.1, 32.7)),
    ("township", "411381101", "411381", (112.1, 32.6, 112.2, 32.7)),
    ("village", "411381001001", "411381001", (112.0, 32.6, 112.1, 32.7)),
    ("village", "411381101201", "411381101", (112.1, 32.6, 112.2, 32.7)),
    ("grid", "411381001001001", "411381001001", (112.0, 32.6, 112.05, 32.7)),
    ("grid", "411381001001002", "411381001001", (112.05, 32.6, 112.1, 32.7)),
    ("grid", "411381101201001", "411381101201", (112.1, 32.6, 112.2, 32.7)),
    ("microgrid", "41138100100100101", "411381001001001", (112.0, 32.6, 112.05, 32.65)),
    ("microgrid", "41138100100100102", "411381001001001", (112.0, 32.65, 112.05, 32.7)),
]
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
    """The visit policy and catalogue come from a migration; a transactional test (the browser
    tests) flushes them at its end, so put them back when missing, and forget the catalogue a
    process keeps in memory."""
    from patrols import catalogue, selectors
    from patrols.models import IncidentCategory, VisitPolicy

    selectors._ITEMS["at"] = 0.0
    if not IncidentCategory.objects.exists() or not VisitPolicy.objects.exists():
        catalogue.seed(VisitPolicy, IncidentCategory)
