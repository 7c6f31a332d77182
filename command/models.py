"""The frozen quarterly star ratings (双评, command.ratings says how they are scored)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SubjectKind(models.TextChoices):
    GRID = "grid", _("grid")
    WORKER = "worker", _("grid worker")
    # The party organisation of a village or community, rated on its village's figures.
    VILLAGE = "village", _("village/community party organisation")


class StarRating(models.Model):
    """One subject's rating for one quarter, frozen once the quarter has ended: the stars, the
    score, the figures it came from and the formula it used. Never recomputed: a later change of
    the data or of the formula leaves it as it was (one row per subject and quarter)."""

    kind = models.CharField(_("rated"), max_length=16, choices=SubjectKind.choices)
    # The unit's code, or the worker's user id: with kind, who is rated.
    subject = models.CharField(_("subject"), max_length=32)
    subject_name = models.CharField(_("name"), max_length=200)
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("worker"),
    )
    # Where the subject was when frozen (a worker: their grid's): who may read the rating.
    territory_path = models.CharField(max_length=200)
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    stars = models.PositiveSmallIntegerField(_("stars"), null=True, blank=True)
    score = models.FloatField(_("score"), null=True, blank=True)
    parts = models.JSONField(_("part scores"), default=dict)
    figures = models.JSONField(_("figures"), default=dict)
    formula = models.JSONField(_("formula"), default=dict)
    formula_version = models.CharField(_("formula version"), max_length=32)
    frozen_at = models.DateTimeField(_("frozen"))

    class Meta:
        ordering = ["-year", "-quarter", "kind", "subject"]
        verbose_name = _("star rating")
        verbose_name_plural = _("star ratings")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject", "year", "quarter"], name="star_rating_once"
            ),
            models.CheckConstraint(
                condition=Q(quarter__gte=1, quarter__lte=4), name="star_rating_quarter"
            ),
            models.CheckConstraint(
                condition=Q(stars__isnull=True) | Q(stars__gte=1, stars__lte=5),
                name="star_rating_stars",
            ),
        ]
        indexes = [
            models.Index(
                fields=["territory_path"],
                opclasses=["varchar_pattern_ops"],
                name="star_rating_path_prefix",
            ),
            models.Index(fields=["year", "quarter", "kind"], name="star_rating_quarter_kind"),
        ]

    def __str__(self):
        return f"{self.kind} {self.subject} {self.year}Q{self.quarter}: {self.stars}"


# Registered with the models, which every start-up imports (apps.py stays the command screen's).
from . import checks  # noqa: E402, F401
