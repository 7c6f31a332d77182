"""One placement rule in one place, safe under concurrency.

`territory_place(point)` gives the grid, micro-grid and code path a point belongs to (the
covering current cell, lowest code on a shared edge); the household trigger and the
permission check of household writes both ask it, so they cannot disagree.

Unit writes and placements serialise on one transaction-level advisory lock: a grid or
micro-grid write takes it exclusively (in its re-placement trigger), a household placement
takes it shared. So a household written while another transaction retires its micro-grid
and inserts the successors either waits for that transaction and then sees the successors,
or commits first and is then re-placed by it; it never stays in a retired cell."""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION territory_place(point geometry,
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

-- The lock unit writes take exclusively and placements take shared (see the docstring).
CREATE OR REPLACE FUNCTION territory_placement_lock(exclusive boolean) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF exclusive THEN
        PERFORM pg_advisory_xact_lock(7767, 1);
    ELSE
        PERFORM pg_advisory_xact_lock_shared(7767, 1);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION territory_household_assign() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE p record;
BEGIN
    PERFORM territory_placement_lock(false);
    -- A new statement, so a new snapshot: it sees a unit write that held the lock until now.
    SELECT * INTO p FROM territory_place(NEW.location);
    NEW.grid_id := p.grid_id;
    NEW.micro_grid_id := p.micro_grid_id;
    NEW.territory_path := p.path;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION territory_unit_reassign() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM territory_placement_lock(true);
    IF TG_OP = 'INSERT' THEN
        PERFORM territory_assign_households(NEW.boundary);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM territory_assign_households(OLD.boundary);
    ELSE
        PERFORM territory_assign_households(ST_Collect(OLD.boundary, NEW.boundary));
    END IF;
    RETURN NULL;
END $$;

ALTER FUNCTION territory_household_assign() SET enable_seqscan = off;
ALTER FUNCTION territory_household_assign() SET jit = off;
"""

BACKWARD = r"""
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

ALTER FUNCTION territory_household_assign() SET enable_seqscan = off;
ALTER FUNCTION territory_household_assign() SET jit = off;
DROP FUNCTION IF EXISTS territory_placement_lock(boolean);
DROP FUNCTION IF EXISTS territory_place(geometry);
"""


class Migration(migrations.Migration):
    dependencies = [("territory", "0005_record_versions")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
