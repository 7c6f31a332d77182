"""The case list's order as an index: a township's page of the newest 50 walks it (a few
thousand index entries at city scale) instead of sorting all the cases in reach
(bench/cases.py measured the list at 1,000,000 cases)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_description_4000")]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["-created_at", "-id"], name="case_recent"),
        ),
    ]
