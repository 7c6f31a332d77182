import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "title", "label"),
    [
        ("zh-hans", "辖区地图", "户数"),
        ("en", "Territory map", "Households"),
    ],
)
def test_map_page_in_both_languages(territory, client, language, title, label):
    client.force_login(territory.users["grid_worker"])
    page = client.get(reverse("map"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"<title>{title}</title>" in page and label in page


def test_pages_load_nothing_from_outside(territory, client):
    client.force_login(territory.users["admin"])
    for url in (
        reverse("map"),
        reverse("login"),
        reverse("swagger-ui"),
        reverse("admin:territory_unit_add"),
    ):
        page = client.get(url).content.decode()
        for attribute in (
            'src="http',
            "src='http",
            'href="http',
            "href='http",
            'src="//',
            'href="//',
        ):
            assert attribute not in page, (url, attribute)


def test_admin_map_widget_uses_the_vendored_leaflet(territory, client):
    client.force_login(territory.users["admin"])
    unit = territory.units["411381001001001"]
    page = client.get(reverse("admin:territory_unit_change", args=[unit.pk])).content.decode()
    assert "/static/leaflet/leaflet.js" in page and "/static/leaflet/draw/leaflet.draw.js" in page


def test_admin_boundary_edit_creates_a_new_version(territory, client):
    import datetime

    from django.utils import timezone

    from core.validity import start_of
    from territory.models import Unit

    client.force_login(territory.users["admin"])
    unit = Unit.objects.get(code="411381101201001")
    Unit.objects.filter(pk=unit.pk).update(valid_from=start_of(datetime.date(2024, 1, 1)))
    new_boundary = '{"type": "MultiPolygon", "coordinates": [[[[112.1, 32.6], [112.2, 32.6], [112.2, 32.69], [112.1, 32.69], [112.1, 32.6]]]]}'
    response = client.post(
        reverse("admin:territory_unit_change", args=[unit.pk]),
        {
            "level": "grid",
            "code": unit.code,
            "name": unit.name,
            "name_en": "",
            "parent_code": unit.parent_code,
            "boundary": new_boundary,
            "loaded_version": unit.version,
        },
    )
    assert response.status_code == 302
    versions = list(Unit.objects.filter(code=unit.code).order_by("valid_from"))
    assert len(versions) == 2 and timezone.localdate(versions[0].valid_to) == timezone.localdate()
    assert versions[1].valid_to is None and versions[1].boundary.extent[3] == pytest.approx(32.69)


def test_admin_refuses_a_bad_code(territory, client):
    from territory.models import Unit

    client.force_login(territory.users["admin"])
    response = client.post(
        reverse("admin:territory_unit_add"),
        {
            "level": "grid",
            "code": "4113811",
            "name": "坏代码",
            "name_en": "",
            "parent_code": "411381101201",
            "boundary": '{"type": "MultiPolygon", "coordinates": [[[[112.1, 32.6], [112.11, 32.6], [112.11, 32.61], [112.1, 32.6]]]]}',
        },
    )
    assert response.status_code == 200 and "a grid code has 15 digits" in response.content.decode()
    assert not Unit.objects.filter(code="4113811").exists()


def test_admin_add_holds_the_import_rules(territory, client):
    """A unit added in the admin lies within its parent, as an imported one must."""
    from territory.models import Household, Unit

    client.force_login(territory.users["admin"])
    spill = '{"type": "MultiPolygon", "coordinates": [[[[112.14, 32.6], [112.25, 32.6], [112.25, 32.65], [112.14, 32.65], [112.14, 32.6]]]]}'
    data = {
        "level": "microgrid",
        "code": "41138110120100101",
        "name": "越界微网格",
        "name_en": "",
        "parent_code": "411381101201001",
        "boundary": spill,
    }
    response = client.post(reverse("admin:territory_unit_add"), data)
    assert response.status_code == 200
    assert "outside its parent" in response.content.decode()
    assert not Unit.objects.filter(code="41138110120100101").exists()
    inside = spill.replace("112.25", "112.2")
    response = client.post(reverse("admin:territory_unit_add"), {**data, "boundary": inside})
    assert response.status_code == 302
    added = Unit.objects.get(code="41138110120100101")
    assert added.path.endswith("/41138110120100101")
    assert Household.objects.get(pk=territory.households["B1a"].pk).micro_grid_id == added.pk


def test_admin_never_edits_a_units_identity_in_place(territory, client):
    from territory.models import Unit

    client.force_login(territory.users["admin"])
    unit = Unit.objects.get(code="411381101201001")
    page = client.get(reverse("admin:territory_unit_change", args=[unit.pk])).content.decode()
    assert 'name="code"' not in page and 'name="parent_code"' not in page
    response = client.post(
        reverse("admin:territory_unit_change", args=[unit.pk]),
        {
            "name": "改名的网格",
            "name_en": "",
            "boundary": unit.boundary.geojson,
            "loaded_version": unit.version,
            "code": "411381101201999",  # ignored: read-only
        },
    )
    assert response.status_code == 302
    versions = list(Unit.objects.filter(code="411381101201001").order_by("valid_from"))
    assert [v.name for v in versions] == [unit.name, "改名的网格"]
    assert versions[0].valid_to is not None and versions[1].valid_to is None
    assert not Unit.objects.filter(code="411381101201999").exists()
    client.post(reverse("admin:territory_unit_delete", args=[versions[1].pk]), {"post": "yes"})
    retired = Unit.objects.get(pk=versions[1].pk)  # retired, never deleted
    assert retired.valid_to is not None


def test_planner_page_is_for_planners(territory, client):
    client.force_login(territory.users["village_officer"])
    page = client.get(reverse("planner"))
    assert page.status_code == 200
    assert 'value="411381001001001"' in page.content.decode()  # a grid of their village
    assert 'value="411381101201001"' not in page.content.decode()  # not another village's
    assert 'href="/planner/"' in client.get(reverse("map")).content.decode()
    client.force_login(territory.users["grid_worker"])
    assert client.get(reverse("planner")).status_code == 403
    assert 'href="/planner/"' not in client.get(reverse("map")).content.decode()


def test_field_page_is_for_workers_and_installable(territory, client):
    client.force_login(territory.users["grid_worker"])
    page = client.get(reverse("field")).content.decode()
    assert 'rel="manifest"' in page and 'value="411381001001001"' in page
    assert 'href="/field/"' in client.get(reverse("map")).content.decode()
    worker = client.get(reverse("field-sw"))
    assert worker["Service-Worker-Allowed"] == "/field/"
    assert "/static/leaflet/leaflet.js" in worker.content.decode()
    assert "__ASSETS__" not in worker.content.decode()
    client.force_login(territory.users["commander"])
    assert client.get(reverse("field")).status_code == 403
