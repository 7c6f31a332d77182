"""Fire the placement trigger only for rows inserted without a place: the intake statement
places its rows itself, and a trigger call (with its function-level settings) costs more than
the check."""

from django.db import migrations

FORWARD = """
DROP TRIGGER IF EXISTS patrols_incident_place ON patrols_incident;
CREATE TRIGGER patrols_incident_place BEFORE INSERT ON patrols_incident
    FOR EACH ROW WHEN (NEW.grid_id IS NULL) EXECUTE FUNCTION patrols_incident_place();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS patrols_incident_place ON patrols_incident;
CREATE TRIGGER patrols_incident_place BEFORE INSERT ON patrols_incident
    FOR EACH ROW EXECUTE FUNCTION patrols_incident_place();
"""


class Migration(migrations.Migration):
    dependencies = [("patrols", "0004_incident_place_once")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
