"""manage.py import_osm: an .osm.pbf built here with pyosmium, loaded into the layers."""

import osmium
import pytest
from django.core.management import CommandError, call_command
from osmium.osm.mutable import Node, Relation, Way

from basemap.models import Building, LandUse, Place, Poi, Road, Water

pytestmark = pytest.mark.django_db
X, Y = 112.07, 32.65


def _write(path):
    square = [(X, Y), (X + 0.001, Y), (X + 0.001, Y + 0.001), (X, Y + 0.001)]
    with osmium.SimpleWriter(str(path)) as writer:
        nodes = {
            1: (X - 0.01, Y),
            2: (X + 0.01, Y),
            **{10 + i: p for i, p in enumerate(square)},
            20: (X - 0.02, Y - 0.02),
            21: (X + 0.02, Y - 0.02),
            22: (X + 0.02, Y + 0.02),
            23: (X - 0.02, Y + 0.02),
        }
        for i, (x, y) in nodes.items():
            writer.add_node(Node(id=i, location=(x, y), tags={}))
        writer.add_node(Node(id=30, location=(X, Y), tags={"place": "town", "name": "花洲街道"}))
        writer.add_node(
            Node(
                id=31,
                location=(X, Y),
                tags={"amenity": "school", "name": "Primary", "name:zh": "小学"},
            )
        )
        writer.add_way(Way(id=100, nodes=[1, 2], tags={"highway": "primary", "name": "新华路"}))
        writer.add_way(Way(id=101, nodes=[1, 2], tags={"waterway": "river", "name": "湍河"}))
        writer.add_way(Way(id=102, nodes=[10, 11, 12, 13, 10], tags={"building": "yes"}))
        writer.add_way(Way(id=103, nodes=[20, 21, 22, 23, 20], tags={}))
        writer.add_relation(
            Relation(
                id=200,
                members=[("w", 103, "outer")],
                tags={"type": "multipolygon", "landuse": "farmland"},
            )
        )


def test_import_osm_loads_every_layer_and_replaces_only_its_area(tmp_path):
    Road.objects.create(area="other", kind="primary", geom="SRID=3857;LINESTRING(0 0, 1 1)")
    path = tmp_path / "dengzhou.osm.pbf"
    _write(path)
    call_command("import_osm", str(path), verbosity=0)
    road = Road.objects.get(area="dengzhou")
    assert (road.kind, road.name, road.osm_id, road.geom.srid) == ("primary", "新华路", 100, 3857)
    assert Water.objects.get(area="dengzhou").name == "湍河"
    assert Building.objects.filter(area="dengzhou").count() == 1
    assert LandUse.objects.get(area="dengzhou").kind == "farmland"
    assert Place.objects.get(area="dengzhou").name == "花洲街道"
    assert Poi.objects.get(area="dengzhou").name == "小学"  # name:zh first
    building = Building.objects.get().geom.transform(4326, clone=True)
    assert building.extent == pytest.approx((X, Y, X + 0.001, Y + 0.001), abs=1e-6)
    # Again: the area's rows are replaced, not doubled; the other area is left alone.
    call_command("import_osm", str(path), verbosity=0)
    assert Road.objects.filter(area="dengzhou").count() == 1
    assert Road.objects.filter(area="other").count() == 1


@pytest.mark.parametrize("content", [b"", b"not a pbf at all", b"\x00\x00\x00\x0dOSMHeader"])
def test_a_broken_file_is_a_clear_error_and_changes_nothing(tmp_path, content):
    Road.objects.create(area="broken", kind="primary", geom="SRID=3857;LINESTRING(0 0, 1 1)")
    path = tmp_path / "broken.osm.pbf"
    path.write_bytes(content)
    with pytest.raises(CommandError, match="broken.osm.pbf"):
        call_command("import_osm", str(path), verbosity=0)
    assert Road.objects.filter(area="broken").count() == 1


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_osm", str(tmp_path / "nowhere.osm.pbf"), verbosity=0)
