"""The service terms of the catalogue and the departments. Also adds what the catalogues lack: the
incident catalogue's newer items (a database seeded before they were written has only the first
ones) and every item's terms (cases/catalogue.py); neither overwrites an admin's edit. Departments
are not seeded here: they are each county's own (the demo's come from demo/departments.py)."""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def seed(apps, schema_editor):
    from cases import catalogue as terms
    from patrols import catalogue

    category = apps.get_model("patrols", "IncidentCategory")
    catalogue.seed(apps.get_model("patrols", "VisitPolicy"), category)
    terms.seed(
        category, apps.get_model("cases", "ServiceTerms"), apps.get_model("cases", "StepLimit")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("patrols", "0006_record_versions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Department",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "version",
                    models.PositiveIntegerField(
                        db_default=1, default=1, editable=False, verbose_name="edit version"
                    ),
                ),
                ("code", models.CharField(max_length=32, unique=True, verbose_name="code")),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                (
                    "name_en",
                    models.CharField(blank=True, max_length=100, verbose_name="English name"),
                ),
                (
                    "county_code",
                    models.CharField(
                        help_text="Division code of the county it belongs to.",
                        max_length=17,
                        verbose_name="county",
                    ),
                ),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "items",
                    models.ManyToManyField(
                        blank=True,
                        help_text="Items of the catalogue, or whole categories (all their items).",
                        related_name="departments",
                        to="patrols.incidentcategory",
                        verbose_name="handles",
                    ),
                ),
                (
                    "members",
                    models.ManyToManyField(
                        blank=True,
                        help_text="Department staff who act for it on cases dispatched or escalated to it.",
                        related_name="departments",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="staff",
                    ),
                ),
            ],
            options={
                "verbose_name": "department",
                "verbose_name_plural": "departments",
                "ordering": ["county_code", "code"],
            },
        ),
        migrations.CreateModel(
            name="DepartmentArea",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "version",
                    models.PositiveIntegerField(
                        db_default=1, default=1, editable=False, verbose_name="edit version"
                    ),
                ),
                ("unit_code", models.CharField(max_length=17, verbose_name="territory code")),
                (
                    "department",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="areas",
                        to="cases.department",
                    ),
                ),
            ],
            options={
                "verbose_name": "area covered",
                "verbose_name_plural": "areas covered",
                "ordering": ["department", "unit_code"],
            },
        ),
        migrations.CreateModel(
            name="ServiceTerms",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "version",
                    models.PositiveIntegerField(
                        db_default=1, default=1, editable=False, verbose_name="edit version"
                    ),
                ),
                (
                    "responsible",
                    models.CharField(
                        choices=[
                            ("grid", "Grid matter (网格事项)"),
                            ("department", "Department matter (部门事项)"),
                            ("volunteer", "Small service order (小微服务)"),
                        ],
                        default="grid",
                        max_length=16,
                        verbose_name="handled as",
                    ),
                ),
                (
                    "auto_case",
                    models.BooleanField(
                        default=False,
                        help_text="Ticked: a grid worker's incident of this item opens a case at once.",
                        verbose_name="an incident becomes a case by itself",
                    ),
                ),
                (
                    "public",
                    models.BooleanField(
                        default=True,
                        help_text="Unticked: its cases never appear on the public page (e.g. cult activity).",
                        verbose_name="publicly disclosed (晒单)",
                    ),
                ),
                (
                    "yellow_share",
                    models.FloatField(
                        blank=True,
                        help_text="Empty: the default setting (0.8 unless configured).",
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(0.05),
                            django.core.validators.MaxValueValidator(0.99),
                        ],
                        verbose_name="yellow card at share of the limit",
                    ),
                ),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "item",
                    models.OneToOneField(
                        limit_choices_to={"parent__isnull": False},
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="terms",
                        to="patrols.incidentcategory",
                        verbose_name="item",
                    ),
                ),
            ],
            options={
                "verbose_name": "service terms",
                "verbose_name_plural": "service terms",
                "ordering": ["item__code"],
            },
        ),
        migrations.CreateModel(
            name="StepLimit",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "version",
                    models.PositiveIntegerField(
                        db_default=1, default=1, editable=False, verbose_name="edit version"
                    ),
                ),
                (
                    "step",
                    models.CharField(
                        choices=[
                            ("dispatch", "Dispatch"),
                            ("accept", "Accept"),
                            ("acknowledge", "Report in"),
                            ("handle", "Handle"),
                            ("verify", "Verify"),
                            ("publish", "Publish"),
                        ],
                        max_length=16,
                        verbose_name="step",
                    ),
                ),
                (
                    "amount",
                    models.PositiveSmallIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(999),
                        ],
                        verbose_name="limit",
                    ),
                ),
                (
                    "unit",
                    models.CharField(
                        choices=[("hours", "working hours"), ("days", "working days")],
                        max_length=8,
                        verbose_name="unit",
                    ),
                ),
                (
                    "terms",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="limits",
                        to="cases.serviceterms",
                    ),
                ),
            ],
            options={
                "verbose_name": "step limit",
                "verbose_name_plural": "step limits",
                "ordering": ["terms", "step"],
            },
        ),
        migrations.AddIndex(
            model_name="department",
            index=models.Index(fields=["county_code"], name="department_county"),
        ),
        migrations.AddIndex(
            model_name="departmentarea",
            index=models.Index(fields=["unit_code"], name="department_area_unit"),
        ),
        migrations.AddConstraint(
            model_name="departmentarea",
            constraint=models.UniqueConstraint(
                fields=("department", "unit_code"), name="department_area_once"
            ),
        ),
        migrations.AddConstraint(
            model_name="serviceterms",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("yellow_share__isnull", True),
                    models.Q(("yellow_share__gte", 0.05), ("yellow_share__lte", 0.99)),
                    _connector="OR",
                ),
                name="serviceterms_yellow_share_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="serviceterms",
            constraint=models.CheckConstraint(
                condition=models.Q(("responsible__in", ["grid", "department", "volunteer"])),
                name="serviceterms_responsible_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="steplimit",
            constraint=models.UniqueConstraint(
                fields=("terms", "step"), name="steplimit_one_per_step"
            ),
        ),
        migrations.AddConstraint(
            model_name="steplimit",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 1), ("amount__lte", 999)),
                name="steplimit_amount_positive",
            ),
        ),
        migrations.AddConstraint(
            model_name="steplimit",
            constraint=models.CheckConstraint(
                condition=models.Q(("unit__in", ["hours", "days"])), name="steplimit_unit_known"
            ),
        ),
        migrations.AddConstraint(
            model_name="steplimit",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "step__in",
                        ["dispatch", "accept", "acknowledge", "handle", "verify", "publish"],
                    )
                ),
                name="steplimit_step_known",
            ),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
