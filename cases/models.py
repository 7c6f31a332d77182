"""The case flow's tables: the working-day overrides the deadlines rest on (cases.working_time;
cases.selectors.working_calendar reads them), the catalogue's service terms and the departments,
and the cases themselves with their immutable history and the hotline's caller systems."""

from django.conf import settings
from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Case as DbCase
from django.db.models import Q, Value, When
from django.utils.translation import gettext_lazy as _

from territory.codes import Level
from territory.models import Unit, Versioned, subtree_q

from .flow import TERMINAL, CaseState, Status, Step, Whistle
from .working_time import Deadline, WorkingCalendar


class WorkingDayOverride(Versioned):
    """One day whose status the calendar package gets wrong or does not know yet: the State
    Council's schedule for a year the package was released before (typed in from the notice,
    usually published in November or December), or a county's own closure (a typhoon, a flood).
    A row wins over the package."""

    date = models.DateField(
        _("date"),
        unique=True,
        help_text=_(
            "For a year the calendar package does not know, deadlines stay marked as estimated "
            "until the year's schedule is typed in; it counts as typed in once the row for "
            "New Year's Day (January 1, a holiday every year) is there."
        ),
    )
    is_workday = models.BooleanField(
        _("working day"),
        help_text=_("Ticked: a working day (e.g. a weekend made up, 调休); unticked: a day off."),
    )
    note = models.CharField(
        _("note"), max_length=200, blank=True, help_text=_("e.g. 国务院办公厅 2027 年节假日安排")
    )

    class Meta:
        ordering = ["date"]
        verbose_name = _("working-day override")
        verbose_name_plural = _("working-day overrides")

    def __str__(self):
        return f"{self.date.isoformat()} {'workday' if self.is_workday else 'day off'}"


# --- The service catalogue's terms and the departments (职能部门) -----------------------------
# What each item of the incident catalogue (patrols.IncidentCategory) promises: a time limit per
# step of the flow, who handles it, whether it becomes a case by itself and is disclosed; and the
# departments, with the areas they cover kept apart from the items they handle ("where" is not
# "who"). Seeded from cases/catalogue.py; the demo's departments from demo/departments.py.

# The yellow card shows when a step has used this share of its limit, unless the item says
# otherwise (settings.WANGGE_YELLOW_CARD_SHARE).
DEFAULT_YELLOW_SHARE = 0.8


def default_yellow_share() -> float:
    return float(getattr(settings, "WANGGE_YELLOW_CARD_SHARE", DEFAULT_YELLOW_SHARE))


class Responsible(models.TextChoices):
    """Who works an item's cases: the grid's own workers, a department, or a volunteer."""

    GRID = "grid", _("Grid matter (网格事项)")
    DEPARTMENT = "department", _("Department matter (部门事项)")
    VOLUNTEER = "volunteer", _("Small service order (小微服务)")


class LimitUnit(models.TextChoices):
    WORKING_HOURS = "hours", _("working hours")
    WORKING_DAYS = "days", _("working days")


class ServiceTerms(Versioned):
    """The terms of one catalogue item (事项): the public promise of how fast and by whom."""

    item = models.OneToOneField(
        "patrols.IncidentCategory",
        on_delete=models.PROTECT,
        related_name="terms",
        verbose_name=_("item"),
        limit_choices_to={"parent__isnull": False},
    )
    responsible = models.CharField(
        _("handled as"), max_length=16, choices=Responsible.choices, default=Responsible.GRID
    )
    auto_case = models.BooleanField(
        _("an incident becomes a case by itself"),
        default=False,
        help_text=_("Ticked: a grid worker's incident of this item opens a case at once."),
    )
    public = models.BooleanField(
        _("publicly disclosed (晒单)"),
        default=True,
        help_text=_("Unticked: its cases never appear on the public page (e.g. cult activity)."),
    )
    yellow_share = models.FloatField(
        _("yellow card at share of the limit"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0.05), MaxValueValidator(0.99)],
        help_text=_("Empty: the default setting (0.8 unless configured)."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["item__code"]
        verbose_name = _("service terms")
        verbose_name_plural = _("service terms")
        constraints = [
            models.CheckConstraint(
                condition=Q(yellow_share__isnull=True)
                | Q(yellow_share__gte=0.05, yellow_share__lte=0.99),
                name="serviceterms_yellow_share_range",
            ),
            models.CheckConstraint(
                condition=Q(responsible__in=Responsible.values),
                name="serviceterms_responsible_known",
            ),
        ]

    def __str__(self):
        return str(self.item)

    @property
    def effective_yellow_share(self) -> float:
        return self.yellow_share if self.yellow_share is not None else default_yellow_share()

    def clean(self):
        if self.item_id is not None and self.item.parent_id is None:
            raise ValidationError(
                {"item": _("Terms belong to an item of the catalogue, not to a category.")}
            )


class StepLimit(Versioned):
    """The limit of one timed step (flow.Step) for one item: an amount of working hours or
    working days on the calendar of cases.working_time."""

    terms = models.ForeignKey(ServiceTerms, on_delete=models.CASCADE, related_name="limits")
    step = models.CharField(_("step"), max_length=16, choices=Step.choices)
    amount = models.PositiveSmallIntegerField(
        _("limit"), validators=[MinValueValidator(1), MaxValueValidator(999)]
    )
    unit = models.CharField(_("unit"), max_length=8, choices=LimitUnit.choices)

    class Meta:
        ordering = ["terms", "step"]
        verbose_name = _("step limit")
        verbose_name_plural = _("step limits")
        constraints = [
            models.UniqueConstraint(fields=["terms", "step"], name="steplimit_one_per_step"),
            models.CheckConstraint(
                condition=Q(amount__gte=1, amount__lte=999), name="steplimit_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit__in=LimitUnit.values), name="steplimit_unit_known"
            ),
            models.CheckConstraint(condition=Q(step__in=Step.values), name="steplimit_step_known"),
        ]

    def __str__(self):
        return f"{self.step}: {self.amount} {self.unit}"

    def deadline(self, *, start, calendar: WorkingCalendar) -> Deadline:
        if self.unit == LimitUnit.WORKING_HOURS:
            return calendar.add_working_hours(start, self.amount)
        return calendar.add_working_days(start, self.amount)


class Department(Versioned):
    """A functional department (职能部门) of a county: a county bureau (城管局) or a township's
    station of one (派出所, 司法所). Which items it handles and which areas it covers are two
    separate lists: a police station handles public order in its township only, the county
    bureau the same items everywhere. Territory is held by code (like role assignments), so a
    new boundary version keeps the department's coverage."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    county_code = models.CharField(
        _("county"), max_length=17, help_text=_("Division code of the county it belongs to.")
    )
    items = models.ManyToManyField(
        "patrols.IncidentCategory",
        blank=True,
        related_name="departments",
        verbose_name=_("handles"),
        help_text=_("Items of the catalogue, or whole categories (all their items)."),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="departments",
        verbose_name=_("staff"),
        help_text=_("Department staff who act for it on cases dispatched or escalated to it."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["county_code", "code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        indexes = [models.Index(fields=["county_code"], name="department_county")]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def clean(self):
        county = Unit.objects.current().filter(code=self.county_code).first()
        if county is None or county.level != Level.COUNTY:
            raise ValidationError(
                {"county_code": _("%(code)s is not a current county.") % {"code": self.county_code}}
            )


class DepartmentArea(Versioned):
    """One territorial unit (any level) a department covers: the county for a county bureau, a
    township for its station. Always within the department's own county."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="areas")
    unit_code = models.CharField(_("territory code"), max_length=17)

    class Meta:
        ordering = ["department", "unit_code"]
        verbose_name = _("area covered")
        verbose_name_plural = _("areas covered")
        constraints = [
            models.UniqueConstraint(fields=["department", "unit_code"], name="department_area_once")
        ]
        indexes = [models.Index(fields=["unit_code"], name="department_area_unit")]

    def __str__(self):
        return self.unit_code

    def clean(self):
        department = getattr(self, "department", None)
        if department is None or not self.unit_code:
            return
        problem = area_problem(self.unit_code, department.county_code)
        if problem:
            raise ValidationError({"unit_code": problem})


def area_problem(unit_code: str, county_code: str) -> str | None:
    """Why a department of `county_code` cannot cover `unit_code`, or None if it can."""
    unit = Unit.objects.current().filter(code=unit_code).first()
    if unit is None:
        return _("%(code)s is not a current unit of the territory.") % {"code": unit_code}
    if county_code not in unit.path.split("/"):
        return _("%(code)s lies outside the department's county %(county)s.") % {
            "code": unit_code,
            "county": county_code,
        }
    return None


# --- Cases (件) and their history -------------------------------------------------------------
# A case is raised by a resident, a grid worker's incident, the 12345 hotline or an Open311
# client, and walks the six orders of cases.flow. Where it happened (grid, micro-grid, path) is
# fixed when it is raised, from the boundary versions that held then: a later re-division never
# moves an old case (the indicators of a grid stay those of the grid as it was). Its history is
# CaseEvent, which the database refuses to change (migration 0003).


class Source(models.TextChoices):
    RESIDENT = "resident", _("Resident's request")  # 群众点单
    INCIDENT = "incident", _("Grid worker's incident")  # 巡查上报
    HOTLINE = "hotline", _("12345 hotline")
    OPEN311 = "open311", _("Open311 client")


def card_conditions(now) -> tuple[tuple[str, Q], ...]:
    """The card rule (黄牌、红牌), written once: the colour a case's running step shows at
    `now`, as conditions tried in order (red wins over yellow). Red once the step's deadline
    has come, yellow once it has used its share of the limit (yellow_at), none otherwise; a
    closed case runs no step. The same instants cases.services.cards_record records cards at;
    the API's `card` field (CaseQuerySet.with_card) and its `card` filter (carded) both read
    these, so a list filtered by colour always shows cases of that colour."""
    running = ~Q(status__in=sorted(TERMINAL))
    return (
        ("red", running & Q(due_at__lte=now)),
        ("yellow", running & Q(yellow_at__lte=now)),
    )


CARD_COLOURS = ("none", "yellow", "red")


class CaseQuerySet(models.QuerySet):
    def in_subtree(self, paths):
        return self.filter(subtree_q("territory_path", paths))

    def with_card(self, now):
        """Each case with `card`: "red", "yellow" or "none" at `now` (card_conditions)."""
        whens = [When(condition, then=Value(colour)) for colour, condition in card_conditions(now)]
        return self.annotate(
            card=DbCase(*whens, default=Value("none"), output_field=models.CharField())
        )

    def carded(self, colour: str, now):
        """The cases showing `colour` at `now`: the conditions themselves (not the CASE of
        with_card) so that the database can use the (status, due_at) index."""
        if colour not in CARD_COLOURS:
            raise ValueError(f"a card is one of {', '.join(CARD_COLOURS)}, not {colour!r}")
        wanted = Q()
        for name, condition in card_conditions(now):
            if name == colour:
                return self.filter(wanted & condition)
            wanted &= ~condition
        return self.filter(wanted)

    def overdue(self, now):
        """The cases past their step's deadline: those showing the red card."""
        return self.carded("red", now)


class Case(Versioned):
    """One matter (事项) raised by someone, from its report to its publication. `version`
    (Versioned: raised by the database on every save) is what a client read: an action sent
    with an older one is refused (409 stale), so two people acting at once never both win."""

    number = models.CharField(
        _("case number"),
        max_length=32,
        unique=True,
        editable=False,
        help_text=_("County code, local date and the day's sequence: 411381-20261201-0007."),
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    item = models.ForeignKey(
        "patrols.IncidentCategory",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("item"),
    )
    description = models.TextField(_("description"), max_length=4000, blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_cases",
        verbose_name=_("reported by"),
    )
    # Personal data: shown in clear only to those territory.roles.SEES_PERSONAL_DATA allows
    # there, the reporter, the assignee and the department holding the case; masked elsewhere.
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    point = models.PointField(_("where"), srid=4326)  # SRID 4326, WGS84
    grid = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", editable=False, verbose_name=_("grid")
    )
    micro_grid = models.ForeignKey(
        Unit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("micro-grid"),
    )
    territory_path = models.CharField(max_length=200, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REPORTED
    )
    whistle = models.CharField(
        _("escalation"), max_length=8, choices=Whistle.choices, default=Whistle.NONE
    )
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    whistle_rating = models.PositiveSmallIntegerField(_("escalation rating"), null=True, blank=True)
    # The running step's clock (flow.STEP_OF_STATUS); empty once the case is closed.
    step = models.CharField(_("current step"), max_length=16, choices=Step.choices, blank=True)
    step_started_at = models.DateTimeField(_("step started"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    yellow_at = models.DateTimeField(_("yellow card from"), null=True, blank=True)
    estimated = models.BooleanField(
        _("deadline estimated"),
        default=False,
        help_text=_("The deadline rests on a year whose holiday schedule is not known yet."),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
        verbose_name=_("assignee"),
    )
    department = models.ForeignKey(
        "Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("department"),
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates"
    )
    incident = models.OneToOneField(
        "patrols.Incident",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="case",
        verbose_name=_("from incident"),
    )
    hotline_caller = models.ForeignKey(
        "HotlineCaller", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    hotline_order = models.CharField(_("hotline order number"), max_length=64, blank=True)
    # What the hotline sent, as a digest: the same order number with other content is a 409.
    intake_digest = models.CharField(max_length=64, blank=True, editable=False)
    # The answers to the item's Open311 service definition (open311.ServiceAttribute codes:
    # text, numbers as strings, date-times in ISO 8601, lists of keys).
    attributes = models.JSONField(
        _("attributes"), default=dict, blank=True, encoder=DjangoJSONEncoder, editable=False
    )
    # Personal data an intake system sent besides the contact (an Open311 client's e-mail,
    # device_id, account_id, the photo's media_url, the address it gave): kept for the case's
    # holders, shown by no API and never by the public disclosure.
    reporter_details = models.JSONField(
        _("reporter details"), default=dict, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(
                fields=["hotline_caller", "hotline_order"],
                condition=Q(hotline_caller__isnull=False),
                name="case_hotline_order_once",
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="case_status_known"),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="case_satisfaction_range",
            ),
            models.CheckConstraint(
                condition=Q(whistle_rating__isnull=True)
                | Q(whistle_rating__gte=1, whistle_rating__lte=5),
                name="case_whistle_rating_range",
            ),
        ]
        indexes = [
            models.Index(
                fields=["territory_path"],
                opclasses=["varchar_pattern_ops"],
                name="case_path_prefix",
            ),
            models.Index(fields=["status", "due_at"], name="case_status_due"),
            models.Index(fields=["item", "-created_at"], name="case_item_recent"),
            models.Index(fields=["reporter", "-created_at"], name="case_reporter_recent"),
            models.Index(fields=["assignee"], name="case_assignee"),
            # The case list's order (newest first): a page walks it instead of sorting every
            # case in reach (bench/cases.py, migration 0007).
            models.Index(fields=["-created_at", "-id"], name="case_recent"),
        ]

    def __str__(self):
        return self.number

    @property
    def state(self) -> CaseState:
        return CaseState(self.status, self.whistle, self.satisfaction is not None)


class CaseCounter(models.Model):
    """The day's last case number per county: the number is stable and gap-free per day, and
    two cases raised at once get two numbers (an upsert takes the row lock)."""

    county_code = models.CharField(max_length=17)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["county_code", "day"], name="casecounter_once")
        ]


class CaseEvent(models.Model):
    """One action on a case: who, when, where, what, with the note and the action's fields
    (reason, rating, department...). Immutable: the database refuses UPDATE and DELETE of a
    row (trigger cases_caseevent_immutable, migration 0003)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField(_("number"))
    action = models.CharField(_("action"), max_length=32)
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    # An intake system acting (the 12345 hotline): named, since it has no user.
    actor_system = models.CharField(_("by system"), max_length=100, blank=True)
    at = models.DateTimeField(_("at"))
    where = models.PointField(_("where"), srid=4326, null=True, blank=True)
    note = models.TextField(_("note"), max_length=2000, blank=True)
    fields = models.JSONField(_("fields"), default=dict, blank=True)

    class Meta:
        ordering = ["case", "seq"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        constraints = [
            models.UniqueConstraint(fields=["case", "seq"], name="caseevent_seq_once"),
        ]

    def __str__(self):
        return f"{self.case_id}#{self.seq} {self.action}"


def case_photo_path(photo, filename):
    return f"cases/{photo.event.case_id}/{photo.event.seq}-{photo.n}-{photo.sha256[:16]}.jpg"


class CasePhoto(models.Model):
    """A photo an action carried (the resident's report, the handler's result), decoded and
    re-encoded without its metadata (patrols.photos). Immutable like its event: the database
    refuses UPDATE and DELETE (trigger cases_casephoto_immutable, migration 0006). Served only
    by the permission-checked /api/cases/{id}/photos/{photo_id}/, never under MEDIA_URL, never
    by the public disclosure or Open311."""

    event = models.ForeignKey(CaseEvent, on_delete=models.PROTECT, related_name="photos")
    n = models.PositiveSmallIntegerField(_("number"))  # 1, 2, ... within the event
    image = models.FileField(upload_to=case_photo_path, max_length=200)
    content_type = models.CharField(max_length=32, default="image/jpeg")
    size = models.PositiveIntegerField(_("size (bytes)"))  # of the stored file
    sha256 = models.CharField(max_length=64)  # of the bytes received: a photo sent twice is one
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    original_format = models.CharField(max_length=8)

    class Meta:
        ordering = ["event", "n"]
        verbose_name = _("case photo")
        verbose_name_plural = _("case photos")
        constraints = [
            models.UniqueConstraint(fields=["event", "n"], name="casephoto_n_once"),
            models.UniqueConstraint(fields=["event", "sha256"], name="casephoto_once_per_event"),
        ]

    def __str__(self):
        return f"{self.event} photo {self.n}"


class HotlineCaller(Versioned):
    """A caller system (the county's 12345 platform) allowed to raise cases in one county. Its
    key is shown once when made (cases.services.hotline_caller_create); only its first
    characters (to find the row) and its SHA-256 are kept."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    county_code = models.CharField(_("county"), max_length=17)
    key_prefix = models.CharField(max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("hotline caller system")
        verbose_name_plural = _("hotline caller systems")

    def __str__(self):
        return self.name


# --- yellow and red cards (黄牌、红牌) --------------------------------------------------------


class CardColour(models.TextChoices):
    YELLOW = "yellow", _("Yellow card")  # the step has used its yellow share of the limit
    RED = "red", _("Red card")  # the step is overdue


class Card(models.Model):
    """A card a step of a case earned: yellow once it had used the item's share of its limit,
    red once overdue. Recorded for good (the electronic supervision system passes them to the
    discipline inspectors): the database refuses UPDATE and DELETE (trigger
    cases_card_immutable, migration 0005). One card of a colour per step run: the step's
    start instant names the run, so a rework that restarts the step can earn new ones."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="cards")
    colour = models.CharField(_("colour"), max_length=8, choices=CardColour.choices)
    step = models.CharField(_("step"), max_length=16, choices=Step.choices)
    step_started_at = models.DateTimeField(_("step started"))
    # The instant the step crossed the line (yellow_at or due_at), not when the sweep saw it.
    at = models.DateTimeField(_("at"))
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    # Who held the case then (the assignee, the department): the people the card is shown to.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("assignee"),
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    territory_path = models.CharField(max_length=200)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("card")
        verbose_name_plural = _("cards")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "step_started_at", "colour"], name="card_once_per_step_run"
            ),
        ]
        indexes = [models.Index(fields=["territory_path", "colour"], name="card_path_colour")]

    def __str__(self):
        return f"{self.case_id} {self.colour} {self.step}"
