"""The field page's grid picker: a worker's own grids in a select; a city's worth (a superuser)
capped, with a search over the rest."""

import pytest

from patrols import views
from territory.models import Unit

pytestmark = pytest.mark.django_db


def options(html: str) -> int:
    return html.count("<option value=")


def test_a_worker_picks_among_all_their_grids_without_a_search(territory, client):
    client.force_login(territory.users["grid_worker"])
    html = client.get("/field/").content.decode()
    assert 'id="unit-search"' not in html
    assert options(html) >= 1 and "411381001001001" in html


def test_beyond_the_cap_the_page_lists_the_first_grids_and_searches_the_rest(
    territory, client, monkeypatch
):
    grids = Unit.objects.current().filter(level="grid").count()
    monkeypatch.setattr(views, "FIELD_UNIT_CHOICES", grids - 1)
    client.force_login(territory.users["admin"])
    html = client.get("/field/").content.decode()
    assert 'id="unit-search"' in html
    unit_select = html.split('id="unit"', 1)[1].split("</select>", 1)[0]
    assert options(unit_select) == grids - 1
    monkeypatch.setattr(views, "FIELD_UNIT_CHOICES", grids)
    html = client.get("/field/").content.decode()
    assert 'id="unit-search"' not in html
