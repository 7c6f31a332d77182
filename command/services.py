"""Writes of the command app: freezing the quarter's star ratings (双评).

ratings_freeze rates every grid, every village/community's party organisation and every
patrolling worker of the whole territory on the figures of an ended quarter
(command.rankings) with the formula of the settings (command.ratings), and stores one row per
subject and quarter. A subject already frozen for that quarter is left as it is: freezing again
(the task and the command both, two workers at once) adds nothing and changes nothing, and a
later change of the data or the formula never reaches a frozen rating."""

import datetime

from django.db import transaction
from django.utils import timezone

from cases import indicators
from cases.indicators import IndicatorError
from core.api_errors import Problem
from territory.codes import Level
from territory.models import Unit

from . import rankings, ratings
from .models import StarRating, SubjectKind

_LEVEL_KIND = {Level.GRID: SubjectKind.GRID, Level.VILLAGE: SubjectKind.VILLAGE}


def _row(*, kind, subject, name, path, worker_id, year, quarter, figures, formula, now):
    r = ratings.rate(figures, formula)
    return StarRating(
        kind=kind,
        subject=subject,
        subject_name=name[:200],
        worker_id=worker_id,
        territory_path=path,
        year=year,
        quarter=quarter,
        stars=r.stars,
        score=r.score,
        parts=r.parts,
        figures=figures.as_dict(),
        formula=formula.as_dict(),
        formula_version=formula.version,
        frozen_at=now,
    )


@transaction.atomic
def ratings_freeze(*, year: int, quarter: int, now: datetime.datetime | None = None) -> int:
    """Freeze the ratings of an ended quarter; returns how many rows were new. A quarter not
    yet over is refused (400): its figures are not final."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if quarter not in (1, 2, 3, 4) or not 2000 <= year <= 2100:
        raise IndicatorError([Problem("quarter", f"no quarter {year}Q{quarter}")])
    if not ratings.has_ended(year, quarter, today):
        raise IndicatorError(
            [Problem("quarter", f"{year}Q{quarter} has not ended: its figures are not final")]
        )
    formula = rankings.current_formula()
    period = indicators.Period(*ratings.quarter_span(year, quarter))
    known = set(
        StarRating.objects.filter(year=year, quarter=quarter).values_list("kind", "subject")
    )
    rows = []
    for root in Unit.objects.current().filter(parent_code="").only("code", "path").order_by("code"):
        for level, kind in _LEVEL_KIND.items():
            units, figures = rankings.unit_figures(unit=root, period=period, level=level)
            rows += [
                _row(
                    kind=kind,
                    subject=u.code,
                    name=u.name,
                    path=u.path,
                    worker_id=None,
                    year=year,
                    quarter=quarter,
                    figures=figures[u.code],
                    formula=formula,
                    now=now,
                )
                for u in units
                if (kind, u.code) not in known
            ]
        workers, figures, _ = rankings.worker_figures(unit=root, period=period)
        rows += [
            _row(
                kind=SubjectKind.WORKER,
                subject=str(w.pk),
                name=w.name,
                path=w.path,
                worker_id=w.pk,
                year=year,
                quarter=quarter,
                figures=figures[w.pk],
                formula=formula,
                now=now,
            )
            for w in workers
            if (SubjectKind.WORKER, str(w.pk)) not in known
        ]
    # Two freezes at once: the unique constraint keeps the first, the second adds nothing.
    StarRating.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
    return StarRating.objects.filter(year=year, quarter=quarter).count() - len(known)
