"""The territory: administrative units, grids and micro-grids (one versioned table) and the
households placed in them.

Storage CRS: every geometry is EPSG:4326 (WGS84 longitude/latitude). GPS fixes arrive in it,
CGCS2000 (EPSG:4490) differs from it by centimetres, and PostGIS's geography type measures it in
metres. GCJ-02/BD-09 input is converted on the way in (core.coords). See docs/crs.md.
"""

import datetime

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.validity import as_of_instant

from .codes import Level, check_code


class LevelChoices(models.TextChoices):
    CITY = Level.CITY, _("City")
    COUNTY = Level.COUNTY, _("County / district")
    TOWNSHIP = Level.TOWNSHIP, _("Township / street")
    VILLAGE = Level.VILLAGE, _("Village / community")
    GRID = Level.GRID, _("Grid")
    MICROGRID = Level.MICROGRID, _("Micro-grid")


def subtree_q(field: str, paths) -> Q:
    """Rows whose territory path `field` lies at or below any of `paths` (none: nothing)."""
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{field: path}) | Q(**{f"{field}__startswith": f"{path}/"})
    return condition


class Versioned(models.Model):
    """An edit counter, raised by the database on every save, so that a writer who read version
    n can be refused when the row has moved on (ETag/If-Match in the API, a hidden field in the
    admin) instead of silently overwriting someone else's change. Derived columns set by SQL
    (a household's grid, by the assignment trigger) are not edits and do not raise it."""

    version = models.PositiveIntegerField(
        _("edit version"), default=1, db_default=1, editable=False
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding:
            return super().save(*args, **kwargs)
        # Raised in the UPDATE itself: an instance loaded before another save still moves the
        # version past the other writer's instead of writing the same number again.
        previous, self.version = self.version, F("version") + 1
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        try:
            super().save(*args, **kwargs)
        except BaseException:
            self.version = previous
            raise
        self.refresh_from_db(fields=["version"])


class UnitQuerySet(models.QuerySet):
    def current(self):
        return self.filter(valid_to__isnull=True)

    def as_of(self, when: datetime.date | datetime.datetime):
        """The versions that held at `when` (a date: at the end of that day; see validity)."""
        instant = as_of_instant(when)
        return self.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gt=instant), valid_from__lte=instant
        )

    def at_level(self, level: str):
        return self.filter(level=level)

    def in_subtree(self, paths):
        """Units at or below any of the territory paths (an empty list matches nothing)."""
        return self.filter(subtree_q("path", paths))

    def containing(self, point):
        # covers, not contains: a point on a shared edge still belongs somewhere.
        return self.filter(boundary__covers=point)

    def in_bbox(self, bbox_polygon):
        return self.filter(boundary__bboverlaps=bbox_polygon)

    def matching(self, text: str):
        """Units a person looking for `text` means: a code starting with it (digits typed from
        a paper list), or a name (Chinese or English) containing it."""
        text = (text or "").strip()
        if not text:
            return self
        found = models.Q(name__icontains=text) | models.Q(name_en__icontains=text)
        if text.isdigit():
            found |= models.Q(code__startswith=text)
        return self.filter(found)


class Unit(Versioned):
    """One version of a territorial unit (city ... micro-grid). A boundary change never edits a
    row: it closes the old version (valid_to) and adds a new one with the same code. (`version`
    counts edits of this row, e.g. a renaming; it is not the boundary version.)"""

    level = models.CharField(_("level"), max_length=16, choices=LevelChoices.choices)
    code = models.CharField(_("division code"), max_length=17)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    parent_code = models.CharField(_("parent code"), max_length=17, blank=True)
    # Codes from the root down, "/"-joined: a subtree is a prefix, whatever the version rows.
    path = models.CharField(max_length=200, editable=False)
    boundary = models.MultiPolygonField(_("boundary"), srid=4326)  # SRID 4326, WGS84
    area_m2 = models.FloatField(_("area (m²)"), editable=False, default=0)
    valid_from = models.DateTimeField(_("valid from"), default=timezone.now)
    valid_to = models.DateTimeField(_("valid until"), null=True, blank=True)
    predecessors = models.ManyToManyField(
        "self", symmetrical=False, related_name="successors", blank=True
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("territorial unit")
        verbose_name_plural = _("territorial units")
        ordering = ["code", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=Q(valid_to__isnull=True), name="unit_code_current_unique"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="unit_validity_ordered",
            ),
            models.CheckConstraint(condition=Q(level__in=Level.ORDER), name="unit_level_known"),
        ]
        indexes = [
            models.Index(
                fields=["path"], opclasses=["varchar_pattern_ops"], name="unit_path_prefix"
            ),
            models.Index(fields=["code", "valid_from"], name="unit_code_valid_from"),
            models.Index(fields=["parent_code"], name="unit_parent_code"),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def clean(self):
        # Forms (the admin) get the same code rules as imports.
        from django.core.exceptions import ValidationError

        problem = check_code(self.code, self.level, self.parent_code or None)
        if problem:
            raise ValidationError({"code": problem.message})
        if self.parent_code and not Unit.objects.current().filter(code=self.parent_code).exists():
            raise ValidationError({"parent_code": f"unknown parent {self.parent_code}"})


# The flags that decide visit priority (独居老人, 留守儿童, 低保, 残疾, 党员户, 重点关注).
HOUSEHOLD_FLAGS = (
    "elderly_living_alone",
    "left_behind_children",
    "low_income",
    "disabled",
    "party_member",
    "key_attention",
)


class HouseholdQuerySet(models.QuerySet):
    def in_subtree(self, paths):
        return self.filter(subtree_q("territory_path", paths))

    def in_bbox(self, bbox_polygon):
        return self.filter(location__bboverlaps=bbox_polygon)

    def within(self, geometry):
        return self.filter(location__coveredby=geometry)


class Household(Versioned):
    """A household (户) as a point. grid, micro_grid and territory_path are set by the database
    (trigger territory_household_assign) from the current boundaries, on every write and
    whenever a grid or micro-grid boundary changes."""

    location = models.PointField(_("location"), srid=4326)  # SRID 4326, WGS84
    address = models.CharField(_("address"), max_length=200)
    members = models.PositiveSmallIntegerField(_("members"), default=1)
    elderly_living_alone = models.BooleanField(_("elderly living alone"), default=False)
    left_behind_children = models.BooleanField(_("left-behind children"), default=False)
    low_income = models.BooleanField(_("low-income (dibao)"), default=False)
    disabled = models.BooleanField(_("disabled member"), default=False)
    party_member = models.BooleanField(_("party-member household"), default=False)
    key_attention = models.BooleanField(_("key attention"), default=False)
    # Personal data: shown only to roles that may see it (territory.roles), masked elsewhere.
    head_name = models.CharField(_("head of household"), max_length=50)
    head_phone = models.CharField(_("phone"), max_length=20, blank=True)
    # Never the ID number itself: a keyed HMAC-SHA256 (match without storing) and a mask.
    id_number_hash = models.CharField(max_length=64, blank=True, editable=False)
    id_number_masked = models.CharField(_("ID number"), max_length=18, blank=True, editable=False)
    grid = models.ForeignKey(
        Unit, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    micro_grid = models.ForeignKey(
        Unit, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    territory_path = models.CharField(max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(members__gte=1), name="household_members_positive")
        ]
        indexes = [
            models.Index(
                fields=["territory_path"],
                opclasses=["varchar_pattern_ops"],
                name="household_path_prefix",
            ),
            models.Index(fields=["id_number_hash"], name="household_id_hash"),
            models.Index(Upper("head_name"), name="household_head_name_upper"),
        ]

    def __str__(self):
        return self.address


class RoleChoices(models.TextChoices):
    COMMANDER = "commander", _("Commander")
    VILLAGE_OFFICER = "village_officer", _("Village/community officer")
    GRID_CHIEF = "grid_chief", _("Grid chief")
    GRID_WORKER = "grid_worker", _("Grid worker")
    MICROGRID_WORKER = "microgrid_worker", _("Micro-grid worker")
    VOLUNTEER = "volunteer", _("Volunteer")
    DEPARTMENT_STAFF = "department_staff", _("Department staff")
    RESIDENT = "resident", _("Resident")


class RoleAssignment(Versioned):
    """A user's role over one node of the territory. Held by code, not by version row, so it
    survives boundary changes of that node."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("role"), max_length=32, choices=RoleChoices.choices)
    unit_code = models.CharField(_("territory code"), max_length=17)
    # A resident's own household, when known: where their requests' "my home" lies. The
    # registration is by unit (who serves them); the home is the point.
    household = models.ForeignKey(
        "Household",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("home"),
        help_text=_("A resident's own household: where a request sent from 'my home' is placed."),
    )

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "unit_code"], name="role_assignment_unique"
            ),
            models.UniqueConstraint(
                fields=["unit_code"],
                condition=Q(role="grid_chief"),
                name="one_grid_chief_per_grid",
            ),
            models.CheckConstraint(
                condition=Q(household__isnull=True) | Q(role="resident"),
                name="role_assignment_home_for_residents",
            ),
        ]
        indexes = [models.Index(fields=["unit_code", "role"], name="role_unit_role")]

    def __str__(self):
        return f"{self.user} {self.role} @ {self.unit_code}"


class MicroGridDivision(models.Model):
    """One committed re-division of a grid into micro-grids: what it created and retired, so
    that it can be audited and reverted. Previews and adjustments are not stored: they travel
    as GeoJSON between the planner and the server until the commit."""

    grid = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="divisions")
    low = models.PositiveSmallIntegerField(_("minimum households"))
    high = models.PositiveSmallIntegerField(_("maximum households"))
    created_units = models.ManyToManyField(Unit, related_name="created_by_division")
    retired_units = models.ManyToManyField(Unit, related_name="retired_by_division")
    notes = models.JSONField(default=list, blank=True)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    committed_at = models.DateTimeField(default=timezone.now)
    reverted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reverted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("micro-grid division")
        verbose_name_plural = _("micro-grid divisions")
        ordering = ["-committed_at"]

    def __str__(self):
        return f"{self.grid.code} @ {self.committed_at:%Y-%m-%d %H:%M}"


class MicroGridJob(models.Model):
    """A batch re-division of every grid under a village or township, with its progress and a
    report per grid of what was divided and what could not be, and why."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    unit_code = models.CharField(_("territory code"), max_length=17)
    low = models.PositiveSmallIntegerField(_("minimum households"))
    high = models.PositiveSmallIntegerField(_("maximum households"))
    commit = models.BooleanField(_("commit the divisions"), default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("micro-grid batch job")
        verbose_name_plural = _("micro-grid batch jobs")
        ordering = ["-created_at"]


class ScheduledChange(models.Model):
    """A boundary change dated ahead (an import or a unit's new version valid from a later
    day). It is checked in full when asked for, kept here instead of touching the units, and
    applied at its instant by the task worker (territory.tasks), so that the units table only
    ever holds versions that have begun: "current" is `valid_to IS NULL` at every instant, for
    the selectors and the placement triggers alike."""

    class Kind(models.TextChoices):
        IMPORT = "import", _("import")
        REPLACE = "replace", _("new version of a unit")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPLIED = "applied", _("applied")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    effective_at = models.DateTimeField(_("takes effect at"))
    codes = models.JSONField(_("division codes"), default=list)
    # The deepest path above every unit the change touches: who may see and cancel it (those
    # who edit that subtree). Empty for a new root unit: administrators only.
    territory_path = models.CharField(max_length=200, blank=True)
    # What the worker applies: the checked units in WGS84 (territory.services), not the input.
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    result = models.JSONField(default=dict, blank=True)
    problems = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("scheduled boundary change")
        verbose_name_plural = _("scheduled boundary changes")
        ordering = ["effective_at", "id"]
        indexes = [
            models.Index(fields=["status", "effective_at"], name="scheduled_change_due"),
            models.Index(
                fields=["territory_path"],
                opclasses=["varchar_pattern_ops"],
                name="scheduled_change_path",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {', '.join(self.codes[:3])} @ {self.effective_at}"
