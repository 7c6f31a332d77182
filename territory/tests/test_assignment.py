import numpy as np
import pytest
import shapely
from django.contrib.gis.geos import Point

from territory import services
from territory.assignment import place_points
from territory.models import Household

from .factories import HouseholdFactory


def test_place_points_covering_cell_lowest_code_on_edges():
    cells = [shapely.box(1, 0, 2, 1), shapely.box(0, 0, 1, 1)]
    codes = ["b", "a"]
    xy = np.array([[0.5, 0.5], [1.5, 0.5], [1.0, 0.5], [5.0, 5.0], [0.0, 0.0]])
    # inside a, inside b, on the shared edge (-> a, the lower code), outside, on a corner of a
    assert place_points(xy, cells, codes).tolist() == [1, 0, 1, -1, 1]


def test_place_points_with_nothing():
    assert place_points(np.empty((0, 2)), [shapely.box(0, 0, 1, 1)], ["a"]).tolist() == []
    assert place_points(np.array([[0.5, 0.5]]), [], []).tolist() == [-1]


@pytest.mark.django_db
def test_bulk_path_agrees_with_the_database_function(territory, monkeypatch):
    extra = [
        HouseholdFactory(location=Point(x, y, srid=4326))
        for x, y in [(112.05, 32.62), (112.02, 32.65), (112.1, 32.7), (113.0, 33.0), (112.0, 32.6)]
    ]
    columns = ("id", "grid_id", "micro_grid_id", "territory_path")
    by_sql = sorted(Household.objects.values_list(*columns))
    assert len(by_sql) == 4 + len(extra)
    Household.objects.update(grid=None, micro_grid=None, territory_path="")
    monkeypatch.setattr(services, "BULK_ASSIGN_THRESHOLD", 0)
    assert services.households_assign() == len(by_sql) - 1  # the one outside stays unplaced
    assert sorted(Household.objects.values_list(*columns)) == by_sql
    assert services.households_assign() == 0
