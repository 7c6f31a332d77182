"""The streets under every map: OpenStreetMap-derived layers (or the demo's), drawn by the server
as vector tiles (tiles.py).

Every geometry is stored in EPSG:3857 (web Mercator), not 4326 like the territory: these rows
exist only to be cut into web-Mercator tiles, so storing them in the tiles' own projection lets
the tile query use the spatial index against the tile's envelope directly and skip a
reprojection of every feature of every tile. Nothing measures distances on them.

`area` names where the rows came from (an import's name, or "demo"): an import replaces its
area's rows and leaves the others alone."""

from django.contrib.gis.db import models

SRID = 3857


class Road(models.Model):
    area = models.CharField(max_length=100, db_index=True)
    osm_id = models.BigIntegerField(null=True, blank=True)
    # OSM's highway=* value (primary, residential, footway...): the style and zoom range follow it.
    kind = models.CharField(max_length=40)
    name = models.CharField(max_length=200, blank=True)
    geom = models.LineStringField(srid=SRID)


class Building(models.Model):
    area = models.CharField(max_length=100, db_index=True)
    osm_id = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=40, blank=True)
    name = models.CharField(max_length=200, blank=True)
    geom = models.MultiPolygonField(srid=SRID)


class Water(models.Model):
    area = models.CharField(max_length=100, db_index=True)
    osm_id = models.BigIntegerField(null=True, blank=True)
    # river, stream, canal (lines) or lake, reservoir, pond, riverbank (areas).
    kind = models.CharField(max_length=40)
    name = models.CharField(max_length=200, blank=True)
    geom = models.GeometryField(srid=SRID)


class LandUse(models.Model):
    area = models.CharField(max_length=100, db_index=True)
    osm_id = models.BigIntegerField(null=True, blank=True)
    # OSM's landuse=* / leisure=park / natural=wood value: farmland, residential, park...
    kind = models.CharField(max_length=40)
    name = models.CharField(max_length=200, blank=True)
    geom = models.MultiPolygonField(srid=SRID)


class Place(models.Model):
    area = models.CharField(max_length=100, db_index=True)
    osm_id = models.BigIntegerField(null=True, blank=True)
    # OSM's place=* value: city, town, village, hamlet, neighbourhood.
    kind = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    geom = models.PointField(srid=SRID)


class Poi(models.Model):
    area = models.CharField(max_length=100, db_index=True)
    osm_id = models.BigIntegerField(null=True, blank=True)
    # amenity / shop / tourism value: school, hospital, police, marketplace...
    kind = models.CharField(max_length=40)
    name = models.CharField(max_length=200, blank=True)
    geom = models.PointField(srid=SRID)


LAYERS = {
    "landuse": LandUse,
    "water": Water,
    "roads": Road,
    "buildings": Building,
    "places": Place,
    "pois": Poi,
}
