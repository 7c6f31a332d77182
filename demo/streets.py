"""The demo's streets: roads, building footprints, land use, a river, place names and a few
points of interest that fit the seeded households, written into the basemap's tables (area
"demo") in a handful of bulk statements, so that the first `make run` shows a real-looking town.

- Town: a street grid (about every 200 m, east-west 路 and north-south 街, every fourth one a main
  road) over the urban grids.
- Countryside: each villagers' group's hamlet joined to its village, each village to its
  township, each township to the county seat (straight roads, named like county roads: 邓构线).
- Buildings: one footprint per address point: the flats of one apartment building (the
  households sharing a point) in one block, each farmhouse in its own. A footprint is shrunk so
  that it stays within 0.45 of the distance to the nearest other address (two footprints never
  overlap, so no footprint holds another address's households) and clear of the nearest road.

All geometry is written in EPSG:3857 (see basemap.models); 1 m on the ground at Dengzhou's
latitude (32.7 N) is about 1.19 web-Mercator units, hence K."""

from django.db import connection

from .generator import ROADS

AREA = "demo"
K = 1.19
STREET_SPACING = 200 * K
NORTH_SOUTH = ["建设街", "工业街", "交通街", "解放街", "花洲街", "古城街", "朝阳街", "东风街"]

_SQL = [
    # The urban area and the centre of each unit's households (weighted by where people live).
    """CREATE TEMP TABLE demo_urban ON COMMIT DROP AS
       SELECT ST_Transform(ST_Union(boundary), 3857) AS geom
       FROM territory_unit WHERE valid_to IS NULL AND code = ANY(%(urban)s)""",
    """CREATE TEMP TABLE demo_centre ON COMMIT DROP AS
       WITH grid AS (
           SELECT g.code, g.name, g.parent_code, g.code = ANY(%(urban)s) AS urban,
                  ST_Transform(ST_Centroid(ST_Collect(h.location)), 3857) AS geom,
                  ST_Transform(ST_Collect(h.location), 3857) AS houses
           FROM territory_household h JOIN territory_unit g ON g.id = h.grid_id
           GROUP BY g.code, g.name, g.parent_code)
       SELECT 'grid' AS level, code, name, parent_code, urban, geom, houses FROM grid
       UNION ALL
       SELECT 'village', v.code, v.name, v.parent_code, bool_or(grid.urban),
              ST_Centroid(ST_Collect(grid.houses)), NULL
       FROM grid JOIN territory_unit v ON v.code = grid.parent_code AND v.valid_to IS NULL
       GROUP BY v.code, v.name, v.parent_code""",
    """INSERT INTO demo_centre
       SELECT 'township', t.code, t.name, t.parent_code, bool_or(c.urban),
              ST_Centroid(ST_Collect(c.geom)), NULL
       FROM demo_centre c JOIN territory_unit t ON t.code = c.parent_code AND t.valid_to IS NULL
       WHERE c.level = 'village' GROUP BY t.code, t.name, t.parent_code""",
    # The county seat: the middle of the town if there is one, else of everyone.
    """INSERT INTO demo_centre
       SELECT 'county', u.code, u.name, u.parent_code, true,
              COALESCE((SELECT ST_PointOnSurface(geom) FROM demo_urban WHERE geom IS NOT NULL),
                       (SELECT ST_Centroid(ST_Collect(geom)) FROM demo_centre
                        WHERE level = 'township')), NULL
       FROM territory_unit u WHERE u.valid_to IS NULL AND u.level = 'county'
         AND u.code = %(county)s""",
    # Town streets.
    """INSERT INTO basemap_road (area, kind, name, geom)
       SELECT %(area)s, l.kind, l.name, d.geom
       FROM demo_urban u,
            LATERAL (
                SELECT CASE WHEN i %% 4 = 0 THEN 'secondary' ELSE 'residential' END AS kind,
                       (%(east_west)s::text[])[1 + i %% cardinality(%(east_west)s::text[])] AS name,
                       ST_SetSRID(ST_MakeLine(
                           ST_MakePoint(ST_XMin(u.geom), ST_YMin(u.geom) + (i + 0.5) * %(spacing)s),
                           ST_MakePoint(ST_XMax(u.geom), ST_YMin(u.geom) + (i + 0.5) * %(spacing)s)),
                           3857) AS line
                FROM generate_series(0, floor((ST_YMax(u.geom) - ST_YMin(u.geom)) / %(spacing)s)::int) i
                UNION ALL
                SELECT CASE WHEN i %% 4 = 2 THEN 'secondary' ELSE 'residential' END,
                       (%(north_south)s::text[])[1 + i %% cardinality(%(north_south)s::text[])],
                       ST_SetSRID(ST_MakeLine(
                           ST_MakePoint(ST_XMin(u.geom) + (i + 0.5) * %(spacing)s, ST_YMin(u.geom)),
                           ST_MakePoint(ST_XMin(u.geom) + (i + 0.5) * %(spacing)s, ST_YMax(u.geom))),
                           3857)
                FROM generate_series(0, floor((ST_XMax(u.geom) - ST_XMin(u.geom)) / %(spacing)s)::int) i
            ) AS l,
            LATERAL ST_Dump(ST_Intersection(l.line, u.geom)) AS d
       WHERE u.geom IS NOT NULL AND GeometryType(d.geom) = 'LINESTRING'""",
    # Country roads: hamlet -> village -> township -> county seat.
    """INSERT INTO basemap_road (area, kind, name, geom)
       SELECT %(area)s,
              CASE c.level WHEN 'grid' THEN 'unclassified' WHEN 'village' THEN 'tertiary'
                           ELSE 'primary' END,
              CASE c.level WHEN 'grid' THEN ''
                           WHEN 'village' THEN left(c.name, 2) || '路'
                           ELSE '邓' || left(c.name, 1) || '线' END,
              ST_MakeLine(c.geom, p.geom)
       FROM demo_centre c JOIN demo_centre p ON p.code = c.parent_code
       WHERE c.level IN ('grid', 'village', 'township') AND NOT (c.urban AND p.urban)
         AND NOT ST_Equals(c.geom, p.geom)""",
    # Fresh rows: without statistics the nearest-road and clearance probes below scan instead
    # of using the spatial index. (Those probes look at every area's roads and buildings, not
    # the demo's alone: a filter on `area` would make the planner leave the spatial index, and
    # an imported street is a street to keep clear of too.)
    "ANALYZE basemap_road",
    # Roads cut into pieces of at most 100 m for the nearest-road probe: the index holds a
    # road's bounding box, and a street across the whole town has a box as big as the town.
    """CREATE TEMP TABLE demo_road_piece ON COMMIT DROP AS
       SELECT (ST_DumpSegments(ST_Segmentize(geom, 100 * %(k)s))).geom AS geom FROM basemap_road""",
    "CREATE INDEX ON demo_road_piece USING gist (geom)",
    "ANALYZE demo_road_piece",
    # Address points: the households at one point are one building's flats.
    """CREATE TEMP TABLE demo_spot ON COMMIT DROP AS
       SELECT ST_Transform(location, 3857) AS geom, count(*) AS flats
       FROM territory_household GROUP BY location""",
    "CREATE INDEX ON demo_spot USING gist (geom)",
    "ANALYZE demo_spot",
    """INSERT INTO basemap_building (area, kind, name, geom)
       SELECT %(area)s, CASE WHEN s.flats > 1 THEN 'apartments' ELSE 'house' END, '',
              ST_Multi(ST_Translate(ST_Rotate(
                  ST_MakeEnvelope(-f.hx * f.s, -f.hy * f.s, f.hx * f.s, f.hy * f.s, 3857),
                  f.angle), ST_X(s.geom), ST_Y(s.geom)))
       FROM demo_spot s,
            LATERAL (SELECT q.geom <-> s.geom AS d FROM demo_spot q
                     ORDER BY q.geom <-> s.geom LIMIT 1 OFFSET 1) AS near,
            LATERAL (SELECT r.geom <-> s.geom AS d FROM demo_road_piece r
                     ORDER BY r.geom <-> s.geom LIMIT 1) AS road,
            LATERAL (SELECT CASE WHEN s.flats > 1 THEN LEAST(10 + 1.0 * s.flats, 30) * %(k)s
                                 ELSE 6 * %(k)s END AS hx,
                            CASE WHEN s.flats > 1 THEN 7 * %(k)s ELSE 5 * %(k)s END AS hy) AS size,
            LATERAL (SELECT size.hx, size.hy,
                            CASE WHEN s.flats > 1 THEN 0
                                 ELSE radians((abs(hashtext(ST_AsText(s.geom))) %% 21) - 10) END
                                AS angle,
                            LEAST(1.0,
                                  0.45 * COALESCE(near.d, 1e9) / sqrt(size.hx ^ 2 + size.hy ^ 2),
                                  GREATEST(0.3, (COALESCE(road.d, 1e9) - 4 * %(k)s)
                                                / sqrt(size.hx ^ 2 + size.hy ^ 2))) AS s) AS f""",
    "ANALYZE basemap_building",
    # The town's other buildings (shops, offices, flats of people not in the register): rows of
    # blocks in each street block that has apartment buildings, wherever they keep clear of every
    # household's building, so that no household is ever inside one of them. A few are left out,
    # as real blocks have gaps.
    """INSERT INTO basemap_building (area, kind, name, geom)
       SELECT %(area)s, 'yes', '', ST_Multi(slab.geom)
       FROM demo_urban u,
            LATERAL (SELECT DISTINCT floor((ST_X(s.geom) - ST_XMin(u.geom)) / %(spacing)s - 0.5) AS i,
                                     floor((ST_Y(s.geom) - ST_YMin(u.geom)) / %(spacing)s - 0.5) AS j
                     FROM demo_spot s WHERE s.flats > 1) AS cell,
            LATERAL generate_series(0, 1) c,
            LATERAL generate_series(0, 4) r,
            LATERAL (SELECT ST_MakeEnvelope(x0, y0, x0 + 70 * %(k)s, y0 + 14 * %(k)s, 3857) AS geom
                     FROM (SELECT ST_XMin(u.geom) + (cell.i + 0.5) * %(spacing)s + (15 + 88 * c) * %(k)s AS x0,
                                  ST_YMin(u.geom) + (cell.j + 0.5) * %(spacing)s + (16 + 34 * r) * %(k)s AS y0) o
                    ) AS slab
       WHERE u.geom IS NOT NULL
         AND abs(hashtext(cell.i || ',' || cell.j || ',' || c || ',' || r)) %% 6 <> 0
         AND NOT EXISTS (SELECT 1 FROM basemap_building b
                         WHERE ST_DWithin(b.geom, slab.geom, 4 * %(k)s))""",
    # Land use: the town, each hamlet's house plots, farmland everywhere else in the county.
    """INSERT INTO basemap_landuse (area, kind, name, geom)
       SELECT %(area)s, 'residential', '', ST_Multi(geom) FROM demo_urban WHERE geom IS NOT NULL
       UNION ALL
       SELECT %(area)s, 'residential', '', ST_Multi(ST_Buffer(ST_ConvexHull(houses), 25 * %(k)s, 2))
       FROM demo_centre WHERE level = 'grid' AND NOT urban
       UNION ALL
       SELECT %(area)s, 'farmland', '', ST_Multi(ST_CollectionExtract(ST_Difference(
                  ST_Transform(u.boundary, 3857),
                  COALESCE((SELECT geom FROM demo_urban), 'SRID=3857;POLYGON EMPTY'::geometry)), 3))
       FROM territory_unit u WHERE u.valid_to IS NULL AND u.code = %(county)s""",
    # The 湍河 (Tuan River) across the county, north-west to south-east, meandering.
    """INSERT INTO basemap_water (area, kind, name, geom)
       WITH county AS MATERIALIZED (
                SELECT geom, ST_XMin(geom) AS x0, ST_XMax(geom) AS x1, ST_YMin(geom) AS y0,
                       ST_YMax(geom) AS y1
                FROM (SELECT ST_Transform(boundary, 3857) AS geom FROM territory_unit
                      WHERE valid_to IS NULL AND code = %(county)s) AS u),
            river AS MATERIALIZED (
                SELECT ST_SetSRID(ST_MakeLine(ST_MakePoint(
                           x0 + t * (x1 - x0),
                           y1 - (0.2 + 0.6 * t) * (y1 - y0) + 2500 * sin(t * 23) + 900 * sin(t * 71))
                           ORDER BY t), 3857) AS line
                FROM county, generate_series(0, 400) AS g(i), LATERAL (SELECT i / 400.0 AS t) AS tt)
       SELECT %(area)s, 'river', '湍河', (ST_Dump(ST_Intersection(river.line, county.geom))).geom
       FROM river, county""",
    # Names on the map, and each village's and township's public buildings.
    """INSERT INTO basemap_place (area, kind, name, geom)
       SELECT %(area)s, CASE level WHEN 'county' THEN 'city' WHEN 'township' THEN 'town'
                                   WHEN 'village' THEN 'village' ELSE 'hamlet' END, name, geom
       FROM demo_centre WHERE level <> 'grid' OR NOT urban""",
    """INSERT INTO basemap_poi (area, kind, name, geom)
       SELECT %(area)s, 'townhall', name || '党群服务中心', ST_Translate(geom, 40 * %(k)s, 25 * %(k)s)
       FROM demo_centre WHERE level = 'village'
       UNION ALL
       SELECT %(area)s, 'clinic', name || '卫生院', ST_Translate(geom, -60 * %(k)s, 45 * %(k)s)
       FROM demo_centre WHERE level = 'township'
       UNION ALL
       SELECT %(area)s, 'school', name || '中心小学', ST_Translate(geom, 70 * %(k)s, -55 * %(k)s)
       FROM demo_centre WHERE level = 'township'""",
]

TABLES = [
    "basemap_road",
    "basemap_building",
    "basemap_landuse",
    "basemap_water",
    "basemap_place",
    "basemap_poi",
]


URBAN_GRIDS = """SELECT g.code FROM territory_household h JOIN territory_unit g ON g.id = h.grid_id
    GROUP BY g.code HAVING count(*) > count(DISTINCT h.location)"""


def demo_streets_create(*, county_code: str, urban_grid_codes: list[str] | None = None) -> dict:
    """Replace the demo area's basemap rows with ones drawn from the seeded households; runs in
    the caller's transaction (demo_seed is atomic). Without `urban_grid_codes` (a demo seeded
    before the streets existed), the town's grids are those with apartment buildings: several
    households at one point."""
    if urban_grid_codes is None:
        with connection.cursor() as cursor:
            cursor.execute(URBAN_GRIDS)
            urban_grid_codes = [code for (code,) in cursor.fetchall()]
    params = {
        "area": AREA,
        "county": county_code,
        "urban": urban_grid_codes,
        "east_west": ROADS,
        "north_south": NORTH_SOUTH,
        "spacing": STREET_SPACING,
        "k": K,
    }
    with connection.cursor() as cursor:
        # A second run in one transaction (a test; seed_demo after a failed one) starts clean.
        cursor.execute("DROP TABLE IF EXISTS demo_urban, demo_centre, demo_spot, demo_road_piece")
        for table in TABLES:
            cursor.execute(f"DELETE FROM {table} WHERE area = %s", [AREA])
        for statement in _SQL:
            cursor.execute(statement, params)
        counts = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE area = %s", [AREA])
            counts[table.removeprefix("basemap_")] = cursor.fetchone()[0]
            cursor.execute(f"ANALYZE {table}")
    return counts
