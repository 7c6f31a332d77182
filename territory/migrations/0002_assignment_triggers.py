"""Households are placed in their grid and micro-grid by the database itself: on every write
of a household, and whenever a grid or micro-grid boundary is added, changed or retired. Units
get their area in m² (on the geography, never in degrees) and their code path the same way, so
that admin edits, imports and raw SQL all end up consistent."""

from django.db import migrations

FORWARD = r"""
CREATE INDEX territory_unit_current_grids ON territory_unit USING gist (boundary)
    WHERE valid_to IS NULL AND level = 'grid';
CREATE INDEX territory_unit_current_microgrids ON territory_unit USING gist (boundary)
    WHERE valid_to IS NULL AND level = 'microgrid';

CREATE OR REPLACE FUNCTION territory_unit_derive() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.area_m2 := ST_Area(NEW.boundary::geography);
    NEW.path := COALESCE(
        (SELECT p.path || '/' FROM territory_unit p
          WHERE p.code = NEW.parent_code AND NEW.parent_code <> ''
          ORDER BY p.valid_to DESC NULLS FIRST LIMIT 1),
        '') || NEW.code;
    RETURN NEW;
END $$;

CREATE TRIGGER territory_unit_derive BEFORE INSERT OR UPDATE OF boundary, parent_code, code
    ON territory_unit FOR EACH ROW EXECUTE FUNCTION territory_unit_derive();

-- Re-place every household whose point lies in `area` (NULL: all of them). One statement.
-- A point on an edge shared by two cells goes to the lower code, so the result is unique.
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

CREATE OR REPLACE FUNCTION territory_household_assign() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE g record; m record;
BEGIN
    SELECT u.id, u.path INTO g FROM territory_unit u
     WHERE u.level = 'grid' AND u.valid_to IS NULL AND ST_Covers(u.boundary, NEW.location)
     ORDER BY u.code LIMIT 1;
    SELECT u.id, u.path INTO m FROM territory_unit u
     WHERE u.level = 'microgrid' AND u.valid_to IS NULL AND ST_Covers(u.boundary, NEW.location)
     ORDER BY u.code LIMIT 1;
    NEW.grid_id := g.id;
    NEW.micro_grid_id := m.id;
    NEW.territory_path := COALESCE(m.path, g.path, '');
    RETURN NEW;
END $$;

-- One point, one lookup: always through the partial GiST indexes, never JIT-compiled. Right
-- after a bulk load the statistics may say nothing yet, and PostGIS's high function costs can
-- then push a per-row lookup past jit_above_cost or towards a scan of every unit.
ALTER FUNCTION territory_household_assign() SET enable_seqscan = off;
ALTER FUNCTION territory_household_assign() SET jit = off;
ALTER FUNCTION territory_assign_households(geometry) SET jit = off;

CREATE TRIGGER territory_household_assign BEFORE INSERT OR UPDATE OF location
    ON territory_household FOR EACH ROW EXECUTE FUNCTION territory_household_assign();

CREATE OR REPLACE FUNCTION territory_unit_reassign() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM territory_assign_households(NEW.boundary);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM territory_assign_households(OLD.boundary);
    ELSE
        PERFORM territory_assign_households(ST_Collect(OLD.boundary, NEW.boundary));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER territory_unit_reassign_ins AFTER INSERT ON territory_unit
    FOR EACH ROW WHEN (NEW.level IN ('grid', 'microgrid'))
    EXECUTE FUNCTION territory_unit_reassign();
CREATE TRIGGER territory_unit_reassign_upd AFTER UPDATE OF boundary, valid_to ON territory_unit
    FOR EACH ROW WHEN (NEW.level IN ('grid', 'microgrid'))
    EXECUTE FUNCTION territory_unit_reassign();
CREATE TRIGGER territory_unit_reassign_del AFTER DELETE ON territory_unit
    FOR EACH ROW WHEN (OLD.level IN ('grid', 'microgrid'))
    EXECUTE FUNCTION territory_unit_reassign();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS territory_unit_reassign_ins ON territory_unit;
DROP TRIGGER IF EXISTS territory_unit_reassign_upd ON territory_unit;
DROP TRIGGER IF EXISTS territory_unit_reassign_del ON territory_unit;
DROP TRIGGER IF EXISTS territory_household_assign ON territory_household;
DROP TRIGGER IF EXISTS territory_unit_derive ON territory_unit;
DROP FUNCTION IF EXISTS territory_unit_reassign();
DROP FUNCTION IF EXISTS territory_household_assign();
DROP FUNCTION IF EXISTS territory_assign_households(geometry);
DROP FUNCTION IF EXISTS territory_unit_derive();
DROP INDEX IF EXISTS territory_unit_current_grids;
DROP INDEX IF EXISTS territory_unit_current_microgrids;
"""


class Migration(migrations.Migration):
    dependencies = [("territory", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
