"""The territory's pages: `/` sends each role to its work; a resident's own page."""

import pytest
from django.urls import reverse

from territory.services import role_assign
from territory.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HOMES = {
    "admin": "/map/",
    "commander": "/command/",
    "township_commander": "/command/",
    "village_officer": "/planner/",
    "grid_chief": "/field/",
    "grid_worker": "/field/",
    "microgrid_worker": "/field/",
    "volunteer": "/cases/",
    "department_staff": "/cases/",
    "resident": "/me/",
}


@pytest.mark.parametrize(("name", "home"), HOMES.items())
def test_home_sends_each_role_to_its_work_and_that_page_opens(territory, client, name, home):
    client.force_login(territory.users[name])
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == home
    assert client.get(home).status_code == 200


def test_login_lands_on_the_roles_home(territory, client):
    response = client.post(reverse("login"), {"username": "grid_worker", "password": "pw"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/")["Location"] == "/field/"


def test_home_asks_a_stranger_to_log_in(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_resident_page_lists_their_grids_contacts_with_work_phones(territory, client):
    users = territory.users
    users["grid_chief"].work_phone = "139-0377-0001"
    users["grid_chief"].save()
    users["grid_worker"].work_phone = "139-0377-0002"
    users["grid_worker"].save()
    # The resident lives in grid A1a's micro-grid: its worker first, then the grid's chief
    # and worker.
    resident = UserFactory(username="neighbour")
    role_assign(user=resident, role="resident", unit_code="41138100100100101")
    client.force_login(resident)
    page = client.get(reverse("resident"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    chief = users["grid_chief"].last_name + users["grid_chief"].first_name
    worker = users["grid_worker"].last_name + users["grid_worker"].first_name
    micro = users["microgrid_worker"].last_name + users["microgrid_worker"].first_name
    assert "我的网格" in page and "41138100100100101" in page
    assert page.index(micro) < page.index(chief) < page.index(worker)
    assert 'href="tel:139-0377-0001"' in page and 'href="tel:139-0377-0002"' in page
    assert "网格长" in page and "未登记工作电话" in page  # the micro-grid worker gave none
    # Nothing of any household: names and phones of residents stay with the staff.
    for household in territory.households.values():
        assert household.head_name not in page and household.head_phone not in page


def test_resident_page_of_a_grid_nobody_serves_and_of_a_non_resident(territory, client):
    client.force_login(territory.users["resident"])  # grid A1b: no chief, no worker
    page = client.get(reverse("resident"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "411381001001002" in page and "Nobody serves this grid yet." in page
    client.force_login(territory.users["grid_worker"])
    page = client.get(reverse("resident"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You are not registered as a resident of a grid." in page


def test_resident_page_escapes_names(territory, client):
    chief = territory.users["grid_chief"]
    chief.first_name, chief.last_name = "<script>alert(1)</script>", ""
    chief.save()
    resident = UserFactory(username="neighbour")
    role_assign(user=resident, role="resident", unit_code="411381001001001")
    client.force_login(resident)
    page = client.get(reverse("resident")).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_map_offers_households_only_to_who_sees_them(territory, client):
    client.force_login(territory.users["resident"])
    assert "data-sees-households" not in client.get(reverse("map")).content.decode()
    client.force_login(territory.users["volunteer"])
    assert "data-sees-households" in client.get(reverse("map")).content.decode()


def test_a_failed_login_is_announced(client, db):
    answer = client.post("/login/", {"username": "nobody", "password": "wrong"})
    assert answer.status_code == 200
    assert '<p class="error" role="alert">' in answer.content.decode()
