"""Validity as instants (timestamptz), not dates: see core.validity."""

import django.utils.timezone
from django.db import migrations, models

# PostgreSQL will not retype a column a trigger's UPDATE OF list names: drop and recreate it.
DROP_TRIGGER = "DROP TRIGGER territory_unit_reassign_upd ON territory_unit;"
CREATE_TRIGGER = """
CREATE TRIGGER territory_unit_reassign_upd AFTER UPDATE OF boundary, valid_to ON territory_unit
    FOR EACH ROW WHEN (NEW.level IN ('grid', 'microgrid'))
    EXECUTE FUNCTION territory_unit_reassign();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("territory", "0002_assignment_triggers"),
    ]

    operations = [
        migrations.RunSQL(DROP_TRIGGER, CREATE_TRIGGER),
        migrations.AlterField(
            model_name="unit",
            name="valid_from",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="valid from"
            ),
        ),
        migrations.AlterField(
            model_name="unit",
            name="valid_to",
            field=models.DateTimeField(blank=True, null=True, verbose_name="valid until"),
        ),
        migrations.RunSQL(CREATE_TRIGGER, DROP_TRIGGER),
    ]
