"""The demo's streets fit its households: each building's flats in one footprint."""

import pytest
from django.db import connection

from basemap.models import Building, LandUse, Place, Road, Water
from demo.seeding import demo_seed
from demo.streets import demo_streets_create

pytestmark = pytest.mark.django_db
SMALL = {"townships": 4, "villages": 16, "grids": 60, "microgrid_grids": 2}


def _rows(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_the_demo_has_streets_buildings_and_names():
    figures = demo_seed(seed=7, counts=SMALL)
    assert figures["roads"] == Road.objects.filter(area="demo").count() > 0
    assert figures["buildings"] == Building.objects.filter(area="demo").count() > 0
    assert Road.objects.exclude(name="").exists()
    assert Road.objects.filter(kind="residential").exists()  # the town's street grid
    assert Road.objects.filter(kind="primary").exists()  # township to county seat
    assert LandUse.objects.filter(kind="farmland").exists()
    assert Water.objects.filter(name="湍河").exists()
    assert Place.objects.filter(kind="town").count() == 4
    assert all(g.srid == 3857 for g in [Road.objects.first().geom, Building.objects.first().geom])


def test_each_building_holds_the_flats_of_one_address_and_no_other():
    demo_seed(seed=7, counts=SMALL)
    # Households sharing a point are one building's flats, and share its address (up to 栋).
    ((spots, flats_elsewhere, strays, crowded),) = _rows(
        """WITH h AS (SELECT ST_Transform(location, 3857) AS p, address
                      FROM territory_household),
                spot AS (SELECT p, count(*) AS n,
                                count(DISTINCT split_part(address, '栋', 1)) AS addresses
                         FROM h GROUP BY p),
                inside AS (SELECT b.id, count(DISTINCT s.p) AS spots FROM basemap_building b
                           JOIN spot s ON ST_Intersects(b.geom, s.p) GROUP BY b.id)
           SELECT (SELECT count(*) FROM spot),
                  (SELECT count(*) FROM spot WHERE n > 1 AND addresses > 1),
                  (SELECT count(*) FROM spot s WHERE NOT EXISTS (
                       SELECT 1 FROM basemap_building b WHERE ST_Intersects(b.geom, s.p))),
                  (SELECT count(*) FROM inside WHERE spots > 1)"""
    )
    assert spots == Building.objects.exclude(kind="yes").count()  # one per address point
    assert Building.objects.filter(kind="yes").exists()  # and the town's other buildings
    assert flats_elsewhere == 0  # one building, one street address
    assert strays == 0  # every household is inside a footprint
    assert crowded == 0  # and no footprint holds two addresses
    # Apartment blocks are drawn bigger than farmhouses.
    ((blocks, houses),) = _rows(
        "SELECT avg(ST_Area(geom)) FILTER (WHERE kind = 'apartments'),"
        " avg(ST_Area(geom)) FILTER (WHERE kind = 'house') FROM basemap_building"
    )
    assert blocks > houses > 0


def test_reseeding_replaces_the_demo_streets_and_keeps_imported_ones():
    Road.objects.create(
        area="osm", kind="primary", name="外环路", geom="SRID=3857;LINESTRING(0 0, 1 1)"
    )
    demo_seed(seed=7, counts=SMALL)
    first = Road.objects.filter(area="demo").count()
    demo_streets_create(county_code="411381", urban_grid_codes=[])  # no town this time
    assert Road.objects.filter(area="osm").count() == 1
    assert 0 < Road.objects.filter(area="demo").count() < first
