"""The command screen's aggregates against a small hand-computed fixture: density cells, the
per-grid rates, classes, Gi* on a tiny lattice (expected z from the textbook formula in
numpy, not from esda), the open cards, the workers and the headline against the period
before."""

import datetime
import math

import numpy as np
import pytest
from django.contrib.gis.geos import LineString, Point
from django.utils import timezone

from cases import services
from cases.models import Card, Case
from command import selectors
from command.selectors import Filters
from patrols.models import Track, TrackFix, Visit

R = 6378137.0


def merc(lon, lat):
    """EPSG:3857 by its definition (the spherical Mercator)."""
    return R * math.radians(lon), R * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def week_of(day):
    return selectors.period_span("week", day=day)


def filters(day=None, **kw):
    span, previous = week_of(day or selectors.today())
    return Filters(span=span, previous=previous, **kw)


def county(territory):
    return selectors.command_unit_for(user=territory.users["commander"])


def _case(territory, lon, lat, item="0102", **kw):
    return services.case_report(
        user=territory.users["commander"], item=item, lon=lon, lat=lat, **kw
    )


# --- pure ----------------------------------------------------------------------------------------


def test_cell_sizes_nest_across_zooms():
    assert selectors.cell_metres(10) == 2000
    assert selectors.cell_metres(12) == 500
    assert selectors.cell_metres(14) == 100
    assert selectors.cell_metres(16) == 25


def test_periods_and_the_ones_before():
    day = datetime.date(2026, 12, 1)  # a Tuesday
    span, before = selectors.period_span("week", day=day)
    assert (span.start, span.end) == (datetime.date(2026, 11, 30), datetime.date(2026, 12, 6))
    assert (before.start, before.end) == (datetime.date(2026, 11, 23), datetime.date(2026, 11, 29))
    span, before = selectors.period_span("quarter", day=day)
    assert (span.start, span.end) == (datetime.date(2026, 10, 1), datetime.date(2026, 12, 31))
    assert (before.start, before.end) == (datetime.date(2026, 7, 1), datetime.date(2026, 9, 30))
    span, before = selectors.period_span("month", day=datetime.date(2026, 1, 15))
    assert (before.start, before.end) == (datetime.date(2025, 12, 1), datetime.date(2025, 12, 31))
    span, before = selectors.period_span("custom", start="2026-11-10", end="2026-11-12")
    assert (before.start, before.end) == (datetime.date(2026, 11, 7), datetime.date(2026, 11, 9))


def test_classes_leave_units_without_households_out():
    out = selectors.classify([0.0, 10.0, None, 11.0, 50.0], scheme="natural", k=3)
    assert out["bins"] == [0.0, 11.0, 50.0]
    assert out["classes"] == [0, 1, None, 1, 2] and out["counts"] == [1, 2, 1]
    q = selectors.classify([1.0, 2.0, 3.0, 4.0], scheme="quantiles", k=2)
    assert q["bins"] == [2.5, 4.0] and q["classes"] == [0, 0, 1, 1]
    many = selectors.classify(list(np.linspace(0, 1, 500)) + [10.0] * 20, scheme="natural")
    assert many["counts"][-1] == 20 and sum(many["counts"]) == 520


def _gi_star_by_hand(x, adjacency):
    """Getis and Ord (1995), Gi* with binary weights that include i itself."""
    x = np.asarray(x, float)
    n = len(x)
    w = adjacency + np.eye(n)
    mean = x.mean()
    s = math.sqrt((x**2).mean() - mean**2)
    wi = w.sum(axis=1)
    return ((w @ x) - mean * wi) / (s * np.sqrt((n * wi - wi**2) / (n - 1)))


def test_gi_star_on_a_three_by_three_lattice_with_an_island():
    # Queen contiguity on a 3 x 3 lattice (cells 0..8, row by row), plus cell 9 alone.
    values = [10, 8, 1, 9, 7, 1, 1, 0, 2, 5]
    adjacency = np.zeros((10, 10))
    for i in range(9):
        for j in range(9):
            ri, ci, rj, cj = i // 3, i % 3, j // 3, j % 3
            if i != j and abs(ri - rj) <= 1 and abs(ci - cj) <= 1:
                adjacency[i, j] = 1
    neighbours = {i: [int(j) for j in np.flatnonzero(adjacency[i])] for i in range(10)}
    z = selectors.gi_star(values, neighbours)
    np.testing.assert_allclose(z, _gi_star_by_hand(values, adjacency), rtol=1e-9)
    # The corner of high values is the hot spot; the island is its own neighbourhood.
    assert selectors.confidence_of(z[0]) >= 90 and z[0] > 0
    assert selectors.confidence_of(0.5) == 0 and selectors.confidence_of(-2.0) == 95
    assert selectors.confidence_of(2.6) == 99 and selectors.confidence_of(1.7) == 90


def test_gi_star_of_too_few_or_equal_values_is_unknown():
    assert all(math.isnan(z) for z in selectors.gi_star([1, 1, 1], {0: [1], 1: [0, 2], 2: [1]}))
    assert all(math.isnan(z) for z in selectors.gi_star([1, 2], {0: [1], 1: [0]}))


# --- in the database -----------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


def test_density_cells_count_cases_per_cell_with_every_filter(territory):
    unit = county(territory)
    _case(territory, 112.020, 32.620)
    _case(territory, 112.021, 32.621)  # the same 2 km cell
    _case(territory, 112.150, 32.650, item="0201")
    old = _case(territory, 112.150, 32.650)
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=40))
    out = selectors.density_bins(unit=unit, layer="cases", zoom=10, filters=filters())
    expected = {}
    for lon, lat in [(112.020, 32.620), (112.021, 32.621), (112.150, 32.650)]:
        x, y = merc(lon, lat)
        key = (math.floor(x / 2000), math.floor(y / 2000))
        expected[key] = expected.get(key, 0) + 1
    assert out["cell_m"] == 2000
    assert {(ix, iy): n for ix, iy, n in out["cells"]} == expected
    assert out["total"] == 3 and out["max"] == 2
    only = selectors.density_bins(unit=unit, layer="cases", zoom=10, filters=filters(item="0201"))
    assert only["total"] == 1
    assert (
        selectors.density_bins(unit=unit, layer="cases", zoom=10, filters=filters(category="01"))[
            "total"
        ]
        == 2
    )
    assert (
        selectors.density_bins(
            unit=unit, layer="cases", zoom=10, filters=filters(sources=("resident",))
        )["total"]
        == 0
    )
    assert (
        selectors.density_bins(
            unit=unit, layer="cases", zoom=10, filters=filters(statuses=("reported",))
        )["total"]
        == 3
    )
    box = selectors.density_bins(
        unit=unit, layer="cases", zoom=10, filters=filters(), bbox=[112.1, 32.6, 112.2, 32.7]
    )
    assert box["total"] == 1
    # A township sees its own subtree only; households ignore the period.
    township = selectors.command_unit_for(user=territory.users["township_commander"])
    assert (
        selectors.density_bins(unit=township, layer="cases", zoom=10, filters=filters())["total"]
        == 2
    )
    households = selectors.density_bins(unit=unit, layer="households", zoom=16, filters=filters())
    assert households["total"] == 4 and households["cell_m"] == 25 and len(households["cells"]) == 4


def test_rates_per_grid_by_hand(territory):
    unit = county(territory)
    a = _case(territory, 112.02, 32.62)  # grid 411381001001001 (2 households)
    _case(territory, 112.03, 32.66)  # the same grid
    _case(territory, 112.15, 32.65)  # grid 411381101201001 (1 household)
    Card.objects.create(
        case=a,
        colour="red",
        step="dispatch",
        step_started_at=a.created_at,
        at=timezone.now(),
        territory_path=a.territory_path,
    )
    Visit.objects.create(
        household=territory.households["A1a-south"],
        worker=territory.users["grid_worker"],
        visited_at=timezone.now(),
        source="check_in",
    )
    rows = {
        r["code"]: r for r in selectors.unit_figures(unit=unit, level="grid", filters=filters())
    }
    assert set(rows) == {"411381001001001", "411381001001002", "411381101201001"}
    first = rows["411381001001001"]
    assert (first["households"], first["cases"], first["overdue"], first["visited"]) == (2, 2, 1, 1)
    assert first["cases_per_100"] == 100.0 and first["overdue_rate"] == 0.5
    assert first["coverage"] == 0.5
    assert rows["411381001001002"]["cases_per_100"] == 0.0
    assert rows["411381001001002"]["overdue_rate"] is None  # no case: no rate
    assert rows["411381101201001"]["cases_per_100"] == 100.0
    townships = selectors.choropleth(
        unit=unit, level="township", measure="cases_per_100", filters=filters(), scheme="natural"
    )
    by_code = {f["properties"]["code"]: f["properties"] for f in townships["features"]}
    assert by_code["411381001"]["cases_per_100"] == round(100 * 2 / 3, 4)
    assert by_code["411381101"]["cases_per_100"] == 100.0
    assert townships["legend"]["bins"] == [round(100 * 2 / 3, 4), 100.0]
    assert townships["features"][0]["geometry"]["type"] == "Polygon"


def test_hot_spots_use_the_grids_adjacency(territory):
    unit = county(territory)
    # Rates per grid 100, 0, 200 along a chain of three grids (west to east).
    _case(territory, 112.02, 32.62)
    _case(territory, 112.03, 32.66)
    _case(territory, 112.15, 32.65)
    _case(territory, 112.16, 32.66)
    out = selectors.hot_spots(unit=unit, level="grid", measure="cases_per_100", filters=filters())
    z = {f["properties"]["code"]: f["properties"]["z"] for f in out["features"]}
    chain = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    with np.errstate(invalid="ignore"):
        expected = _gi_star_by_hand([100, 0, 200], chain)
    west, middle, east = "411381001001001", "411381001001002", "411381101201001"
    np.testing.assert_allclose([z[west], z[east]], expected[[0, 2]], atol=1e-4)
    # The middle grid's neighbourhood is all three: its z has no variance, so no answer.
    assert math.isnan(expected[1]) and z[middle] is None


def test_open_cards_are_the_card_rule_s(territory):
    unit = county(territory)
    now = timezone.now()
    red = _case(territory, 112.02, 32.62)
    yellow = _case(territory, 112.15, 32.65)
    calm = _case(territory, 112.07, 32.65)
    Case.objects.filter(pk=red.pk).update(due_at=now - datetime.timedelta(hours=1))
    Case.objects.filter(pk=yellow.pk).update(
        yellow_at=now - datetime.timedelta(hours=1), due_at=now + datetime.timedelta(days=1)
    )
    Case.objects.filter(pk=calm.pk).update(
        yellow_at=now + datetime.timedelta(hours=1), due_at=now + datetime.timedelta(days=1)
    )
    out = selectors.open_cards(unit=unit, now=now)
    assert [(c["id"], c["card"]) for c in out["cards"]] == [(red.pk, "red"), (yellow.pk, "yellow")]
    assert out["cards"][0]["grid"] == "411381001001001" and not out["truncated"]
    assert "contact_name" not in out["cards"][0]
    township = selectors.command_unit_for(user=territory.users["township_commander"])
    assert [c["id"] for c in selectors.open_cards(unit=township, now=now)["cards"]] == [red.pk]


def test_workers_last_positions_and_today_s_tracks(territory):
    unit = county(territory)
    worker = territory.users["grid_worker"]
    now = timezone.now()
    grid = territory.units["411381001001001"]
    track = Track.objects.create(
        worker=worker,
        client_id="00000000-0000-0000-0000-000000000001",
        started_at=now - datetime.timedelta(minutes=20),
        ended_at=now - datetime.timedelta(minutes=5),
        path=LineString((112.01, 32.61), (112.02, 32.62), srid=4326),
        length_m=1500,
    )
    for minutes, (x, y) in ((20, (112.01, 32.61)), (5, (112.02, 32.62))):
        TrackFix.objects.create(
            track=track,
            recorded_at=now - datetime.timedelta(minutes=minutes),
            location=Point(x, y, srid=4326),
            grid=grid,
        )
    Visit.objects.create(
        household=territory.households["A1a-south"], worker=worker, visited_at=now, source="track"
    )
    out = selectors.workers(user=territory.users["commander"], unit=unit, now=now)
    assert [(w["lon"], w["lat"], w["grid"]) for w in out["workers"]] == [
        (112.02, 32.62, "411381001001001")
    ]
    assert len(out["tracks"]["features"]) == 1
    assert (out["visited_today"], out["households"], out["coverage_today"]) == (1, 4, 0.25)
    other = selectors.command_unit_for(user=territory.users["admin"], code="411381101")
    assert selectors.workers(user=territory.users["admin"], unit=other, now=now)["workers"] == []


def test_headline_against_the_week_before(territory):
    unit = county(territory)
    now = timezone.now()
    _case(territory, 112.02, 32.62, now=now)
    _case(territory, 112.03, 32.63, now=now - datetime.timedelta(days=7))
    _case(territory, 112.04, 32.64, now=now - datetime.timedelta(days=7))
    today = timezone.localtime(now, selectors.SHANGHAI).date()
    out = selectors.headline(user=territory.users["commander"], unit=unit, filters=filters(today))
    figures = {f["name"]: (f["value"], f["previous"]) for f in out["figures"]}
    assert figures["reported"] == (1, 2)
    assert set(figures) == set(selectors.HEADLINE)
