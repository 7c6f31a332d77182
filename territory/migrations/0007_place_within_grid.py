"""The micro-grid is chosen within the grid, and every placement asks territory_place.

Until 0006 the grid and the micro-grid of a point were looked up independently, so on a
sliver (a micro-grid reaching past its grid's edge) a point could get grid 007 and a
micro-grid of 001: a pair no tiling allows, and a code path that says 001 while the grid
says 007. Now the grid decides:

- the grid is the covering current grid (lowest code on a shared edge or vertex);
- the micro-grid is the covering current child of *that* grid (lowest code likewise);
- a point in no grid is in nothing (no grid, no micro-grid, empty path), even if some
  micro-grid sticking out of its grid covers it: grids are what the territory is made of,
  and the intake answers "this point lies in no grid" there;
- a point in a grid but in none of its micro-grids (a gap, or a grid not yet divided) is in
  the grid alone, its path the grid's path.

So the answer is always one consistent pair: micro-grid.parent_code = grid.code.

`territory_assign_households` (the boundary triggers' batch re-placement, migration 0002)
kept its own copy of the old rule; it now asks territory_place too. The incident intake asks
`territory_place_shared`, which takes the shared placement lock first and then places the
point in a new statement, hence a new snapshot: an intake that waited for a re-division sees
the successors, as the household trigger does (0006)."""

from django.db import migrations

FORWARD = r"""
-- A set-returning function (of one row) so that the planner inlines it into the statement that
-- calls it, whose plan is then cached with it: a plain SQL function is planned on every call
-- from plpgsql or a prepared statement, which costs more than the two index lookups.
DROP FUNCTION territory_place(geometry);
CREATE FUNCTION territory_place(point geometry)
RETURNS TABLE (grid_id bigint, grid_code text, grid_path text,
               micro_grid_id bigint, micro_grid_code text, micro_grid_path text, path text)
LANGUAGE sql STABLE PARALLEL SAFE ROWS 1 AS $$
    SELECT g.id, g.code, g.path, m.id, m.code, m.path, COALESCE(m.path, g.path, '')
      FROM (SELECT 1) one
      LEFT JOIN LATERAL (
            SELECT u.id, u.code::text AS code, u.path::text AS path FROM territory_unit u
             WHERE u.level = 'grid' AND u.valid_to IS NULL AND ST_Covers(u.boundary, point)
             ORDER BY u.code LIMIT 1) g ON true
      LEFT JOIN LATERAL (
            SELECT u.id, u.code::text AS code, u.path::text AS path FROM territory_unit u
             WHERE u.level = 'microgrid' AND u.valid_to IS NULL AND u.parent_code = g.code
               AND ST_Covers(u.boundary, point)
             ORDER BY u.code LIMIT 1) m ON true
$$;

-- Volatile on purpose: the placement runs as a statement of its own after the lock is granted,
-- so it sees a unit write that held the lock until then (a stable function would reuse the
-- calling statement's snapshot, taken before the wait).
CREATE OR REPLACE FUNCTION territory_place_shared(point geometry,
    OUT grid_id bigint, OUT grid_code text, OUT grid_path text,
    OUT micro_grid_id bigint, OUT micro_grid_code text, OUT micro_grid_path text,
    OUT path text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM territory_placement_lock(false);
    SELECT * INTO grid_id, grid_code, grid_path, micro_grid_id, micro_grid_code,
                  micro_grid_path, path
      FROM territory_place(point);
END $$;
ALTER FUNCTION territory_place_shared(geometry) SET enable_seqscan = off;
ALTER FUNCTION territory_place_shared(geometry) SET jit = off;

CREATE OR REPLACE FUNCTION territory_assign_households(area geometry) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE changed bigint;
BEGIN
    UPDATE territory_household h
       SET grid_id = a.grid_id, micro_grid_id = a.micro_grid_id, territory_path = a.path
      FROM (
        SELECT h2.id, p.grid_id, p.micro_grid_id, p.path
          FROM territory_household h2, LATERAL territory_place(h2.location) p
         WHERE area IS NULL OR h2.location && area
      ) a
     WHERE h.id = a.id
       AND (h.grid_id IS DISTINCT FROM a.grid_id
            OR h.micro_grid_id IS DISTINCT FROM a.micro_grid_id
            OR h.territory_path IS DISTINCT FROM a.path);
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END $$;
ALTER FUNCTION territory_assign_households(geometry) SET jit = off;
"""

BACKWARD = r"""
DROP FUNCTION IF EXISTS territory_place_shared(geometry);

DROP FUNCTION territory_place(geometry);
CREATE FUNCTION territory_place(point geometry,
    OUT grid_id bigint, OUT grid_code text, OUT grid_path text,
    OUT micro_grid_id bigint, OUT micro_grid_code text, OUT micro_grid_path text,
    OUT path text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT g.id, g.code, g.path, m.id, m.code, m.path, COALESCE(m.path, g.path, '')
      FROM (SELECT 1) one
      LEFT JOIN LATERAL (
            SELECT u.id, u.code::text AS code, u.path::text AS path FROM territory_unit u
             WHERE u.level = 'grid' AND u.valid_to IS NULL AND ST_Covers(u.boundary, point)
             ORDER BY u.code LIMIT 1) g ON true
      LEFT JOIN LATERAL (
            SELECT u.id, u.code::text AS code, u.path::text AS path FROM territory_unit u
             WHERE u.level = 'microgrid' AND u.valid_to IS NULL AND ST_Covers(u.boundary, point)
             ORDER BY u.code LIMIT 1) m ON true
$$;

CREATE OR REPLACE FUNCTION territory_assign_households(area geometry) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE changed bigint;
BEGIN
    UPDATE territory_household h
       SET grid_id = a.grid_id, micro_grid_id = a.micro_grid_id, territory_path = a.path
      FROM (
        SELECT h2.id, g.id AS grid_id, m.id AS micro_grid_id,
               COALESCE(m.path, g.path, '') AS path
          FROM territory_household h2
          LEFT JOIN LATERAL (
                SELECT u.id, u.path FROM territory_unit u
                 WHERE u.level = 'grid' AND u.valid_to IS NULL
                   AND ST_Covers(u.boundary, h2.location)
                 ORDER BY u.code LIMIT 1) g ON true
          LEFT JOIN LATERAL (
                SELECT u.id, u.path FROM territory_unit u
                 WHERE u.level = 'microgrid' AND u.valid_to IS NULL
                   AND ST_Covers(u.boundary, h2.location)
                 ORDER BY u.code LIMIT 1) m ON true
         WHERE area IS NULL OR h2.location && area
      ) a
     WHERE h.id = a.id
       AND (h.grid_id IS DISTINCT FROM a.grid_id
            OR h.micro_grid_id IS DISTINCT FROM a.micro_grid_id
            OR h.territory_path IS DISTINCT FROM a.path);
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END $$;
ALTER FUNCTION territory_assign_households(geometry) SET jit = off;
"""


class Migration(migrations.Migration):
    dependencies = [("territory", "0006_one_placement_rule")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
