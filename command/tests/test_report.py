"""The weekly report's files: the workbook (the indicators, then a ranking sheet per level, with
headers and number formats), and the map as one HTML file with no external script, style or
link and the unit names escaped; neither names a resident."""

import io
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from territory.models import Unit

from .conftest import G1, G2, Q3

pytestmark = pytest.mark.django_db

PERIOD = {"start": Q3[0].isoformat(), "end": Q3[1].isoformat()}


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls, self.scripts, self.inline_scripts = [], 0, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            if attrs.get(name):
                self.urls.append((tag, attrs[name]))
        if tag == "script":
            self.scripts += 1
            self.inline_scripts += "src" not in attrs


def test_the_report_files(quarter, api):
    # A name typed in by someone: text in the workbook, escaped on the map.
    Unit.objects.filter(code=G1).update(name="<img src=x onerror=alert(1)>一网格")
    Unit.objects.filter(code="411381").update(name="县</title><img src=y>")
    client = api(quarter.users["commander"])
    response = client.get(reverse("api-command-report-xlsx"), {"unit": "411381", **PERIOD})
    assert response.status_code == 200
    assert "weekly_411381_20260701-20260930.xlsx" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "Indicators",
        "Townships",
        "Villages and communities",
        "Grids",
        "Workers",
    ]
    grids = book["Grids"]
    headers = [c.value for c in grids[2]]
    assert headers[:5] == ["Rank", "Code", "Name", "Score", "Stars"]
    column = {h: i for i, h in enumerate(headers)}
    rows = [list(r) for r in grids.iter_rows(min_row=3)]
    assert [r[column["Code"]].value for r in rows] == [G2, G1, "411381101201001"]
    first = rows[0]
    assert first[column["Score"]].value == 62.5 and first[column["Score"]].number_format == "0.00"
    rate = first[column["On-time closing rate"]]
    assert (rate.value, rate.number_format) == (1.0, "0.0%")
    assert first[column["Rank"]].number_format == "0"
    assert rows[1][column["Name"]].value.startswith("<img")  # a string, not markup or a formula
    assert grids.freeze_panes == "C3"
    workers = book["Workers"]
    assert [c.value for c in workers[2]][5:7] == ["Incidents logged", "Visits"]
    assert book["Indicators"]["A3"].value == "411381"

    response = client.get(reverse("api-command-report-html"), {"unit": "411381", **PERIOD})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    text = response.content.decode()
    links = Links()
    links.feed(text)
    # Nothing to fetch: no script, style sheet or link from anywhere (only data: images).
    assert links.urls == [], links.urls
    assert links.scripts == links.inline_scripts >= 2
    assert "cdn.jsdelivr" not in text and "code.jquery" not in text
    assert "L.map(" in text and "leaflet-container" in text  # Leaflet and its style, inlined
    # Escaped for the tooltip's innerHTML (and then written as JSON by folium).
    assert "<img src=y" not in text and "县&lt;/title&gt;" in text
    assert "<img src=x" not in text and "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in text
    for h in quarter.households.values():
        h.refresh_from_db()
        assert h.head_name not in text and h.head_phone not in text
    # Per village too; a bad level is a 400.
    assert (
        client.get(reverse("api-command-report-html"), {**PERIOD, "level": "village"}).status_code
        == 200
    )
    assert (
        client.get(reverse("api-command-report-html"), {**PERIOD, "level": "x"}).status_code == 400
    )
