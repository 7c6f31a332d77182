"""Incidents are placed in their grid and micro-grid by the database at insert, with the same
rule as households (territory_household_assign: the covering current cell, lowest code on a
shared edge). They are never re-placed: a later re-division must not rewrite where a past
incident happened. Also seeds the visit policy and the incident catalogue."""

from django.db import migrations

from patrols import catalogue

PLACE = """
CREATE TRIGGER patrols_incident_place BEFORE INSERT ON patrols_incident
    FOR EACH ROW EXECUTE FUNCTION territory_household_assign();
"""
UNPLACE = "DROP TRIGGER IF EXISTS patrols_incident_place ON patrols_incident;"


def seed(apps, schema_editor):
    catalogue.seed(
        apps.get_model("patrols", "VisitPolicy"), apps.get_model("patrols", "IncidentCategory")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("patrols", "0001_initial"),
        ("territory", "0004_microgrid_divisions"),
    ]

    operations = [
        migrations.RunSQL(PLACE, UNPLACE),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
