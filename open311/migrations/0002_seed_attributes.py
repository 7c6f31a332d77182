"""The seed attributes of open311/attributes.py (get-or-create: an admin's edit is kept)."""

from django.db import migrations


def seed(apps, schema_editor):
    from open311 import attributes

    attributes.seed(
        apps.get_model("patrols", "IncidentCategory"), apps.get_model("open311", "ServiceAttribute")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("open311", "0001_initial"),
        ("cases", "0002_catalogue_departments"),  # it adds the catalogue's newer items
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
