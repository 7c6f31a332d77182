import shapely

from core.geometry import check_polygonal

BOWTIE = shapely.Polygon(
    [(112.0, 32.6), (112.1, 32.7), (112.1, 32.6), (112.0, 32.7), (112.0, 32.6)]
)


def test_valid_polygon_becomes_multipolygon():
    polygon, problems, repaired = check_polygonal(shapely.box(112, 32, 113, 33))
    assert polygon.geom_type == "MultiPolygon" and not problems and not repaired


def test_self_intersection_is_reported_with_its_location():
    polygon, problems, _ = check_polygonal(BOWTIE)
    assert polygon is None
    assert "Self-intersection" in problems[0].message
    x, y = problems[0].location
    assert abs(x - 112.05) < 1e-9 and abs(y - 32.65) < 1e-9


def test_repair_only_when_asked_and_says_so():
    polygon, problems, repaired = check_polygonal(BOWTIE, repair=True)
    assert not problems and repaired and polygon.is_valid
    # make_valid keeps both triangles of the bow-tie: 2 x (0.1 x 0.05 / 2) square degrees.
    assert len(polygon.geoms) == 2 and abs(polygon.area - 0.005) < 1e-12


def test_projected_coordinates_are_refused():
    metres = shapely.box(500000, 3600000, 501000, 3601000)
    polygon, problems, _ = check_polygonal(metres)
    assert polygon is None and "out of range" in problems[0].message


def test_wrong_type_is_refused():
    _, problems, _ = check_polygonal(shapely.Point(112, 32))
    assert "expected a Polygon" in problems[0].message
