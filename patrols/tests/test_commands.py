import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from patrols import selectors
from patrols.models import RoadSegment
from territory.models import Unit

OSM = Path(settings.BASE_DIR) / "fixtures" / "roads" / "u_street.osm"


def test_import_osm_roads_keeps_walkable_ways_and_routes_follow_them(territory, tmp_path):
    out = io.StringIO()
    call_command("import_roads", str(OSM), stdout=out)
    assert "2 road segments imported" in out.getvalue()
    assert sorted(RoadSegment.objects.values_list("kind", "name")) == [
        ("footway", ""),
        ("residential", "团结路"),
    ]
    call_command("import_roads", str(OSM), "--replace", stdout=out)
    assert RoadSegment.objects.count() == 2
    route, stops = selectors.todays_route(
        unit=Unit.objects.get(code="411381001001001"), start=(112.0, 32.6)
    )
    assert route.follows_roads and not route.notes
    assert (112.0, 32.61) in route.line and (112.01, 32.61) in route.line


def test_bad_road_files_are_refused(territory, tmp_path):
    polygons = tmp_path / "areas.geojson"
    polygons.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
        '"geometry":{"type":"Polygon","coordinates":[[[112,32.6],[112.1,32.6],[112.1,32.7],[112,32.6]]]}}]}'
    )
    with pytest.raises(CommandError, match="expected lines"):
        call_command("import_roads", str(polygons))
    metres = tmp_path / "utm.geojson"
    metres.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
        '"geometry":{"type":"LineString","coordinates":[[500000,3600000],[500100,3600000]]}}]}'
    )
    with pytest.raises(CommandError, match="out of range"):
        call_command("import_roads", str(metres))
    garbage = tmp_path / "x.geojson"
    garbage.write_text("{not json")
    with pytest.raises(CommandError, match="not a readable road file"):
        call_command("import_roads", str(garbage))
    assert not RoadSegment.objects.exists()
