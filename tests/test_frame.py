"""The site's frame around every page: the links each role is offered (each one opens), the
refused and missing pages in the frame and the user's language with a way home, and the
favicon. API clients keep their JSON answers."""

import re

import pytest
from django.urls import reverse

from territory.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# role -> the top bar's links besides the brand (home); what each role may open.
NAVIGATION = {
    # A superuser may open /field/ but patrols nothing: it is not offered (until it can page
    # through every grid of the county, issue 12 §4).
    "admin": {
        "/map/",
        "/command/",
        "/cases/",
        "/planner/",
        "/api/docs/",
        "/admin/",
        "/cases/indicators/",
        "/command/rankings/",
    },
    "commander": {
        "/map/",
        "/command/",
        "/cases/",
        "/planner/",
        "/api/docs/",
        "/cases/indicators/",
        "/command/rankings/",
    },
    "township_commander": {
        "/map/",
        "/command/",
        "/cases/",
        "/planner/",
        "/api/docs/",
        "/cases/indicators/",
        "/command/rankings/",
    },
    "village_officer": {
        "/map/",
        "/cases/",
        "/planner/",
        "/api/docs/",
        "/cases/indicators/",
        "/command/rankings/",
    },
    "grid_chief": {"/map/", "/cases/", "/field/", "/api/docs/"},
    "grid_worker": {"/map/", "/cases/", "/field/", "/api/docs/"},
    "microgrid_worker": {"/map/", "/cases/", "/field/", "/api/docs/"},
    "volunteer": {"/map/", "/cases/", "/api/docs/"},
    "department_staff": {"/map/", "/cases/", "/api/docs/"},
    "resident": {"/me/", "/map/", "/me/requests/"},
}


def nav_links(page: str) -> set[str]:
    nav = re.search(r'<nav id="site-nav".*?</nav>', page, re.S).group(0)
    return set(re.findall(r'<a href="([^"]+)"', nav))


@pytest.mark.parametrize("name", NAVIGATION)
def test_each_role_is_offered_exactly_the_pages_it_may_open(territory, client, name):
    client.force_login(territory.users[name])
    page = client.get(reverse("map")).content.decode()
    assert '<a class="brand" href="/">' in page
    links = nav_links(page)
    assert links == NAVIGATION[name]
    for link in links:
        assert client.get(link).status_code == 200, link
    # And the staff's pages left out are indeed refused.
    for link in (
        {"/field/", "/planner/", "/cases/"} - links - ({"/field/"} if name == "admin" else set())
    ):
        assert client.get(link).status_code == 403, link


def test_a_resident_who_also_works_gets_both(territory, client):
    from territory.services import role_assign

    user = UserFactory(username="both")
    role_assign(user=user, role="resident", unit_code="411381001001002")
    role_assign(user=user, role="grid_worker", unit_code="411381001001001")
    client.force_login(user)
    links = nav_links(client.get(reverse("map")).content.decode())
    assert links == {"/me/", "/map/", "/cases/", "/me/requests/", "/field/", "/api/docs/"}


@pytest.mark.parametrize(
    ("language", "title", "home"),
    [("zh-hans", "无权访问", "返回我的首页"), ("en", "Not for your role", "Back to my page")],
)
def test_a_refused_page_is_in_the_frame_and_language_with_a_way_home(
    territory, client, language, title, home
):
    client.force_login(territory.users["grid_worker"])
    response = client.get(reverse("planner"), HTTP_ACCEPT_LANGUAGE=language)
    page = response.content.decode()
    assert response.status_code == 403
    assert f"<title>{title}</title>" in page and 'class="topbar"' in page
    assert f'<a class="button" href="/">{home}</a>' in page
    assert 'href="/field/"' in page  # the frame's own links to the user's work
    assert "Forbidden" not in page and "your role does not plan" not in page


@pytest.mark.parametrize(("language", "title"), [("zh-hans", "未找到"), ("en", "Not found")])
def test_a_missing_page_is_in_the_frame_and_language_with_a_way_home(
    territory, client, language, title
):
    client.force_login(territory.users["resident"])
    for url in ("/no-such-page/", "/map/nothing/"):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        page = response.content.decode()
        assert response.status_code == 404
        assert f"<title>{title}</title>" in page and 'href="/me/"' in page
        assert '<a class="button" href="/">' in page


def test_a_missing_page_for_a_stranger_links_to_the_login(client):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 404 and 'href="/"' in page
    assert 'action="/logout/"' not in page


def test_api_clients_keep_their_json_errors(territory, client):
    client.force_login(territory.users["grid_worker"])
    response = client.get("/api/no-such-endpoint/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    response = client.get(reverse("planner"), HTTP_ACCEPT="application/json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    response = client.get("/no-such-page/", HTTP_ACCEPT="application/json")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"


def test_favicon_is_linked_and_served(territory, client):
    client.force_login(territory.users["grid_worker"])
    page = client.get(reverse("map")).content.decode()
    assert '<link rel="icon" href="/static/wangge/icons/favicon.svg" type="image/svg+xml">' in page
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/wangge/icons/favicon.ico"
