"""The demo logins: the resident lives where the demo's grid chief and workers serve, and
their page lists them with their work phones."""

import pytest
from django.contrib.auth import get_user_model

from demo.layout import SMALL_TERRITORY
from demo.users import demo_users_create
from territory.selectors import grid_contacts_for_user
from territory.tests.factories import UnitFactory, box

pytestmark = pytest.mark.django_db


def test_the_demo_resident_sees_the_demo_staff_and_their_work_phones():
    for level, code, parent, bounds in SMALL_TERRITORY:
        UnitFactory(level=level, code=code, parent_code=parent, boundary=box(*bounds))
    demo_users_create()
    resident = get_user_model().objects.get(username="resident")
    (home,) = grid_contacts_for_user(user=resident)
    assert home["unit"].code == "41138100100100101"
    phones = {c["name"]: c["work_phone"] for c in home["contacts"]}
    assert phones == {
        "微网格员": "139-0377-0003",
        "网格长": "139-0377-0001",
        "网格员": "139-0377-0002",
    }
    demo_users_create()  # a second run keeps what is there
    assert get_user_model().objects.get(username="grid_chief").work_phone == "139-0377-0001"
