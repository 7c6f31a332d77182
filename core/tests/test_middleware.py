"""A NUL character in the address is refused as a 400 before any view runs (PostgreSQL cannot
store or compare it: a filter or a unit code with one was a 500)."""

import pytest

from core.tests.errors import refusal

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("/api/units/%00/", "path"),
        ("/api/units/?parent=4113%00", "parent"),
        ("/api/cases/?grid=%00", "grid"),
        ("/api/units/?%00=1", "\\x00"),
    ],
)
def test_a_nul_in_the_address_is_a_400_naming_where(territory, api, url, where):
    answer = api(territory.users["commander"]).get(url)
    assert where in refusal(answer, 400, "bad_request")


def test_a_page_with_a_nul_in_its_address_is_a_plain_400(territory, client):
    client.force_login(territory.users["village_officer"])
    answer = client.get("/planner/?grid=%00")
    assert answer.status_code == 400 and "NUL" in answer.content.decode()


def test_an_address_without_nul_goes_through(territory, api):
    assert api(territory.users["commander"]).get("/api/units/?parent=411381").status_code == 200


def test_open311_refuses_a_nul_in_its_own_error_array(territory, client):
    answer = client.get("/open311/v2/requests.json?jurisdiction_id=411381&service_code=%00")
    assert answer.status_code == 400
    assert [set(error) for error in answer.json()] == [{"code", "description"}]
