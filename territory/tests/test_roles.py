"""Where each role's day starts (territory.roles.home_for): pure, no database."""

import pytest

from territory.models import RoleChoices as R
from territory.roles import home_for

ONE_ROLE = {
    R.COMMANDER: "command",
    R.VILLAGE_OFFICER: "planner",
    R.GRID_CHIEF: "field",
    R.GRID_WORKER: "field",
    R.MICROGRID_WORKER: "field",
    R.VOLUNTEER: "case-desk",
    R.DEPARTMENT_STAFF: "case-desk",
    R.RESIDENT: "resident",
}


def test_every_role_has_a_home():
    assert set(ONE_ROLE) == set(R)


@pytest.mark.parametrize(("role", "home"), ONE_ROLE.items())
def test_each_role_lands_on_its_work(role, home):
    assert home_for({role}) == home


@pytest.mark.parametrize(
    ("roles", "home"),
    [
        # The widest responsibility wins.
        ({R.COMMANDER, R.GRID_CHIEF}, "command"),
        ({R.COMMANDER, R.VILLAGE_OFFICER}, "command"),
        ({R.VILLAGE_OFFICER, R.GRID_CHIEF}, "planner"),
        # A worker who also lives in a grid still starts from the round.
        ({R.GRID_WORKER, R.RESIDENT}, "field"),
        ({R.VOLUNTEER, R.RESIDENT}, "case-desk"),
        ({R.MICROGRID_WORKER, R.VOLUNTEER}, "field"),
    ],
)
def test_a_user_with_several_roles_lands_on_one_home(roles, home):
    assert home_for(roles) == home
    assert home_for(list(roles)) == home


def test_superuser_and_roleless_user():
    assert home_for(set(R), superuser=True) == "map"
    assert home_for(set()) == "map"
