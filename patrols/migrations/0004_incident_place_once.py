"""The incident trigger places only rows inserted without a place. The intake statement
(patrols.services) places, checks and inserts in one statement by the same rule; any other
insert (admin, scripts) is still placed by the trigger. Firing it only when needed also spares
a function call (with its function-level settings) on every incident."""

from django.db import migrations

FORWARD = """
DROP TRIGGER IF EXISTS patrols_incident_place ON patrols_incident;
CREATE TRIGGER patrols_incident_place BEFORE INSERT ON patrols_incident
    FOR EACH ROW WHEN (NEW.grid_id IS NULL) EXECUTE FUNCTION territory_household_assign();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS patrols_incident_place ON patrols_incident;
CREATE TRIGGER patrols_incident_place BEFORE INSERT ON patrols_incident
    FOR EACH ROW EXECUTE FUNCTION territory_household_assign();
"""


class Migration(migrations.Migration):
    dependencies = [("patrols", "0003_patrol_points")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
