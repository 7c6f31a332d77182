"""Open311's own tables: each service's attributes (the spec's service definition), the client
systems and their api_keys, and the posted requests with their tokens."""

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from territory.codes import Level
from territory.models import Unit, Versioned

from .params import DATATYPES

LIST_TYPES = ("singlevaluelist", "multivaluelist")


class Datatype(models.TextChoices):
    STRING = "string", _("string (one line)")
    NUMBER = "number", _("number")
    DATETIME = "datetime", _("date and time")
    TEXT = "text", _("text (several lines)")
    SINGLEVALUELIST = "singlevaluelist", _("one of a list")
    MULTIVALUELIST = "multivaluelist", _("several of a list")


class ServiceAttribute(Versioned):
    """One question a client must (or may) answer when posting a request of an item: the
    spec's `<attribute>`. `values` is the list of a list datatype: [{"key", "name",
    "name_en"}]."""

    item = models.ForeignKey(
        "patrols.IncidentCategory",
        on_delete=models.CASCADE,
        related_name="open311_attributes",
        verbose_name=_("item"),
        limit_choices_to={"parent__isnull": False},
    )
    code = models.SlugField(_("code"), max_length=50)
    datatype = models.CharField(_("datatype"), max_length=16, choices=Datatype.choices)
    required = models.BooleanField(_("required"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    description = models.CharField(_("question"), max_length=200)
    description_en = models.CharField(_("question in English"), max_length=200, blank=True)
    datatype_description = models.CharField(
        _("how to answer"), max_length=200, blank=True, help_text=_("e.g. 车牌号, 如 豫R12345")
    )
    values = models.JSONField(
        _("values"),
        default=list,
        blank=True,
        help_text=_('For a list: [{"key": "straw", "name": "秸秆", "name_en": "Straw"}, ...]'),
    )

    class Meta:
        ordering = ["item__code", "order", "code"]
        verbose_name = _("Open311 attribute")
        verbose_name_plural = _("Open311 attributes")
        constraints = [
            models.UniqueConstraint(fields=["item", "code"], name="open311_attribute_once"),
            models.CheckConstraint(
                condition=Q(datatype__in=DATATYPES), name="open311_attribute_datatype_known"
            ),
        ]

    def __str__(self):
        return f"{self.item.code} {self.code}"

    def clean(self):
        problem = values_problem(self.datatype, self.values)
        if problem:
            raise ValidationError({"values": problem})


def values_problem(datatype: str, values) -> str | None:
    """Why `values` does not suit `datatype`, or None."""
    if datatype not in LIST_TYPES:
        return _("Only a list datatype has values.") if values else None
    if not isinstance(values, list) or not values:
        return _("A list datatype needs a list of values.")
    keys = []
    for value in values:
        if not isinstance(value, dict) or not all(
            isinstance(value.get(k), str) and value.get(k).strip() for k in ("key", "name")
        ):
            return _('Each value is {"key": "...", "name": "..."} (and "name_en").')
        keys.append(value["key"])
    if len(set(keys)) != len(keys):
        return _("Two values have the same key.")
    return None


class Open311Client(Versioned):
    """A system allowed to post requests for one county (a city app, a WeChat mini-program).
    Only a hash of its api_key is kept; the key is shown once, when issued."""

    name = models.CharField(_("name"), max_length=100)
    county_code = models.CharField(
        _("county"), max_length=17, help_text=_("Division code of the county it posts to.")
    )
    key_prefix = models.CharField(_("key starts with"), max_length=8, editable=False, db_index=True)
    key_hash = models.CharField(max_length=64, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["county_code", "name"]
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")

    def __str__(self):
        return f"{self.name} ({self.county_code})"

    def clean(self):
        county = Unit.objects.current().filter(code=self.county_code).first()
        if county is None or county.level != Level.COUNTY:
            raise ValidationError(
                {"county_code": _("%(code)s is not a current county.") % {"code": self.county_code}}
            )


class PostedRequest(models.Model):
    """A request an Open311 client posted: its token, and the case it became (the stable
    service_request_id, the case's public number). Written in the case's transaction."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Open311Client, on_delete=models.PROTECT, related_name="requests")
    county_code = models.CharField(max_length=17)
    service_request_id = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("posted Open311 request")
        verbose_name_plural = _("posted Open311 requests")

    def __str__(self):
        return f"{self.service_request_id} ({self.token})"
