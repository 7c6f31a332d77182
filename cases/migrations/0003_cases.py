"""Cases, their counter, the hotline's caller systems and the case history, which the database
keeps as it was written: a trigger refuses every UPDATE and DELETE of a cases_caseevent row, so
no code path (the admin, a shell, a bug) can rewrite who did what. TRUNCATE, a table owner's
act, is left to the administrator (and the test suite's flush)."""

import django.contrib.gis.db.models.fields
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

IMMUTABLE_EVENTS = r"""
CREATE OR REPLACE FUNCTION cases_caseevent_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a case event is never changed or deleted (% of event %)', TG_OP, OLD.id
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER cases_caseevent_immutable
    BEFORE UPDATE OR DELETE ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION cases_caseevent_immutable();
"""
DROP_IMMUTABLE_EVENTS = r"""
DROP TRIGGER IF EXISTS cases_caseevent_immutable ON cases_caseevent;
DROP FUNCTION IF EXISTS cases_caseevent_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_catalogue_departments"),
        ("patrols", "0006_record_versions"),
        ("territory", "0008_scheduled_changes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HotlineCaller",
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
                ("name", models.CharField(max_length=100, unique=True, verbose_name="name")),
                ("county_code", models.CharField(max_length=17, verbose_name="county")),
                ("key_prefix", models.CharField(editable=False, max_length=12, unique=True)),
                ("key_hash", models.CharField(editable=False, max_length=64)),
                ("active", models.BooleanField(default=True, verbose_name="active")),
            ],
            options={
                "verbose_name": "hotline caller system",
                "verbose_name_plural": "hotline caller systems",
                "ordering": ["name"],
            },
        ),
        migrations.CreateModel(
            name="Case",
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
                    "number",
                    models.CharField(
                        editable=False,
                        help_text="County code, local date and the day's sequence: 411381-20261201-0007.",
                        max_length=32,
                        unique=True,
                        verbose_name="case number",
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("resident", "Resident's request"),
                            ("incident", "Grid worker's incident"),
                            ("hotline", "12345 hotline"),
                            ("open311", "Open311 client"),
                        ],
                        max_length=16,
                        verbose_name="source",
                    ),
                ),
                (
                    "description",
                    models.TextField(blank=True, max_length=2000, verbose_name="description"),
                ),
                (
                    "contact_name",
                    models.CharField(blank=True, max_length=50, verbose_name="contact name"),
                ),
                (
                    "contact_phone",
                    models.CharField(blank=True, max_length=20, verbose_name="contact phone"),
                ),
                (
                    "point",
                    django.contrib.gis.db.models.fields.PointField(srid=4326, verbose_name="where"),
                ),
                ("territory_path", models.CharField(editable=False, max_length=200)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("reported", "Reported"),
                            ("dispatched", "Dispatched"),
                            ("accepted", "Accepted"),
                            ("escalated", "Escalated"),
                            ("handled", "Handled"),
                            ("verified", "Verified"),
                            ("published", "Published"),
                            ("rejected", "Rejected"),
                            ("cancelled", "Cancelled"),
                            ("merged", "Merged as a duplicate"),
                        ],
                        default="reported",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                (
                    "whistle",
                    models.CharField(
                        choices=[
                            ("none", "Not escalated"),
                            ("blown", "Escalated, not rated"),
                            ("rated", "Escalation rated"),
                        ],
                        default="none",
                        max_length=8,
                        verbose_name="escalation",
                    ),
                ),
                (
                    "satisfaction",
                    models.PositiveSmallIntegerField(
                        blank=True, null=True, verbose_name="satisfaction"
                    ),
                ),
                (
                    "whistle_rating",
                    models.PositiveSmallIntegerField(
                        blank=True, null=True, verbose_name="escalation rating"
                    ),
                ),
                (
                    "step",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("dispatch", "Dispatch"),
                            ("accept", "Accept"),
                            ("acknowledge", "Report in"),
                            ("handle", "Handle"),
                            ("verify", "Verify"),
                            ("publish", "Publish"),
                        ],
                        max_length=16,
                        verbose_name="current step",
                    ),
                ),
                (
                    "step_started_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="step started"),
                ),
                ("due_at", models.DateTimeField(blank=True, null=True, verbose_name="due")),
                (
                    "yellow_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="yellow card from"),
                ),
                (
                    "estimated",
                    models.BooleanField(
                        default=False,
                        help_text="The deadline rests on a year whose holiday schedule is not known yet.",
                        verbose_name="deadline estimated",
                    ),
                ),
                (
                    "hotline_order",
                    models.CharField(
                        blank=True, max_length=64, verbose_name="hotline order number"
                    ),
                ),
                ("intake_digest", models.CharField(blank=True, editable=False, max_length=64)),
                ("created_at", models.DateTimeField(editable=False, verbose_name="created")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "assignee",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="assigned_cases",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="assignee",
                    ),
                ),
                (
                    "department",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="cases.department",
                        verbose_name="department",
                    ),
                ),
                (
                    "duplicate_of",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="duplicates",
                        to="cases.case",
                    ),
                ),
                (
                    "grid",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="territory.unit",
                        verbose_name="grid",
                    ),
                ),
                (
                    "incident",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="case",
                        to="patrols.incident",
                        verbose_name="from incident",
                    ),
                ),
                (
                    "item",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="patrols.incidentcategory",
                        verbose_name="item",
                    ),
                ),
                (
                    "micro_grid",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="territory.unit",
                        verbose_name="micro-grid",
                    ),
                ),
                (
                    "reporter",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="reported_cases",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="reported by",
                    ),
                ),
                (
                    "hotline_caller",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="cases.hotlinecaller",
                    ),
                ),
            ],
            options={
                "verbose_name": "case",
                "verbose_name_plural": "cases",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="CaseCounter",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("county_code", models.CharField(max_length=17)),
                ("day", models.DateField()),
                ("last", models.PositiveIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("county_code", "day"), name="casecounter_once")
                ],
            },
        ),
        migrations.CreateModel(
            name="CaseEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seq", models.PositiveIntegerField(verbose_name="number")),
                ("action", models.CharField(max_length=32, verbose_name="action")),
                ("from_status", models.CharField(blank=True, max_length=16, verbose_name="from")),
                ("to_status", models.CharField(max_length=16, verbose_name="to")),
                (
                    "actor_system",
                    models.CharField(blank=True, max_length=100, verbose_name="by system"),
                ),
                ("at", models.DateTimeField(verbose_name="at")),
                (
                    "where",
                    django.contrib.gis.db.models.fields.PointField(
                        blank=True, null=True, srid=4326, verbose_name="where"
                    ),
                ),
                ("note", models.TextField(blank=True, max_length=2000, verbose_name="note")),
                ("fields", models.JSONField(blank=True, default=dict, verbose_name="fields")),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="cases.case",
                    ),
                ),
            ],
            options={
                "verbose_name": "case event",
                "verbose_name_plural": "case events",
                "ordering": ["case", "seq"],
                "constraints": [
                    models.UniqueConstraint(fields=("case", "seq"), name="caseevent_seq_once")
                ],
            },
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["territory_path"],
                name="case_path_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["status", "due_at"], name="case_status_due"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["item", "-created_at"], name="case_item_recent"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["reporter", "-created_at"], name="case_reporter_recent"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["assignee"], name="case_assignee"),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.UniqueConstraint(
                condition=models.Q(("hotline_caller__isnull", False)),
                fields=("hotline_caller", "hotline_order"),
                name="case_hotline_order_once",
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "status__in",
                        [
                            "reported",
                            "dispatched",
                            "accepted",
                            "escalated",
                            "handled",
                            "verified",
                            "published",
                            "rejected",
                            "cancelled",
                            "merged",
                        ],
                    )
                ),
                name="case_status_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("satisfaction__isnull", True),
                    models.Q(("satisfaction__gte", 1), ("satisfaction__lte", 5)),
                    _connector="OR",
                ),
                name="case_satisfaction_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("whistle_rating__isnull", True),
                    models.Q(("whistle_rating__gte", 1), ("whistle_rating__lte", 5)),
                    _connector="OR",
                ),
                name="case_whistle_rating_range",
            ),
        ),
        migrations.RunSQL(IMMUTABLE_EVENTS, DROP_IMMUTABLE_EVENTS),
    ]
