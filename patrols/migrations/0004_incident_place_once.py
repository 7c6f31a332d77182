"""The incident trigger places a row only when the insert did not: the intake statement
(patrols.services) places, checks and inserts in one statement, by the same rule; any other
insert (admin, scripts) is still placed here."""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION patrols_incident_place() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE g record; m record;
BEGIN
    IF NEW.grid_id IS NOT NULL THEN
        RETURN NEW;
    END IF;
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
ALTER FUNCTION patrols_incident_place() SET enable_seqscan = off;
ALTER FUNCTION patrols_incident_place() SET jit = off;
DROP TRIGGER IF EXISTS patrols_incident_place ON patrols_incident;
CREATE TRIGGER patrols_incident_place BEFORE INSERT ON patrols_incident
    FOR EACH ROW EXECUTE FUNCTION patrols_incident_place();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS patrols_incident_place ON patrols_incident;
DROP FUNCTION IF EXISTS patrols_incident_place();
CREATE TRIGGER patrols_incident_place BEFORE INSERT ON patrols_incident
    FOR EACH ROW EXECUTE FUNCTION territory_household_assign();
"""


class Migration(migrations.Migration):
    dependencies = [("patrols", "0003_patrol_points")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
