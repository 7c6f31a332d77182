"""Freezing a quarter's ratings (command.services.ratings_freeze, the task and the command): one
row per subject and quarter with the figures and formula it used; freezing again adds nothing;
a later change of the data or the formula leaves a frozen rating as it was; a quarter not over
is refused."""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from cases.indicators import IndicatorError
from cases.working_time import SHANGHAI
from command import rankings, services, tasks
from command.models import StarRating
from patrols.models import Visit

from .conftest import G1, G2

pytestmark = pytest.mark.django_db

AFTER_Q3 = datetime.datetime(2026, 10, 2, 9, tzinfo=SHANGHAI)


def test_a_quarter_is_frozen_once(quarter):
    created = services.ratings_freeze(year=2026, quarter=3, now=AFTER_Q3)
    # 3 grids, 2 villages, 3 patrolling workers
    assert created == 8
    kinds = sorted(StarRating.objects.values_list("kind", flat=True))
    assert kinds == ["grid"] * 3 + ["village"] * 2 + ["worker"] * 3
    g2 = StarRating.objects.get(kind="grid", subject=G2)
    assert (g2.year, g2.quarter, g2.stars, g2.score) == (2026, 3, 2, 62.5)
    assert g2.figures["rated"] == 2 and g2.figures["rating_sum"] == 6
    assert g2.parts["satisfaction"] == 50.0 and g2.formula_version == "2026.1"
    assert g2.formula["weights"]["on_time_closing"] == 0.30
    worker = StarRating.objects.get(kind="worker", worker=quarter.users["grid_worker"])
    assert (worker.subject, worker.score, worker.territory_path.endswith(G1)) == (
        str(quarter.users["grid_worker"].pk),
        60.0,
        True,
    )
    assert services.ratings_freeze(year=2026, quarter=3, now=AFTER_Q3) == 0
    assert StarRating.objects.count() == 8
    call_command("freeze_ratings", "--year", "2026", "--quarter", "3")
    assert StarRating.objects.count() == 8
    _a_frozen_rating_never_changes(quarter)


def _a_frozen_rating_never_changes(quarter):
    before = StarRating.objects.get(kind="grid", subject=G2)
    # A visit recorded late for September, and a new formula: G2 would now score otherwise.
    Visit.objects.create(
        household=quarter.households["A1b"],
        worker=quarter.users["grid_worker"],
        visited_at=datetime.datetime(2026, 9, 20, 10, tzinfo=SHANGHAI),
        source="check_in",
    )
    with override_settings(WANGGE_STAR_FORMULA={"version": "2027.1", "weights": {"cards": 1}}):
        _, _, _, _, rows = rankings.ranking(
            user=quarter.users["commander"],
            unit_code="411381",
            level="grid",
            start=datetime.date(2026, 7, 1),
            end=datetime.date(2026, 9, 30),
        )
        assert {r.code: r.patrol_coverage for r in rows}[G2] == 1.0
        assert services.ratings_freeze(year=2026, quarter=3, now=AFTER_Q3) == 0
    after = StarRating.objects.get(kind="grid", subject=G2)
    assert (after.score, after.stars, after.figures, after.formula_version) == (
        before.score,
        before.stars,
        before.figures,
        "2026.1",
    )


def test_a_quarter_not_over_is_refused(territory):
    with pytest.raises(IndicatorError):
        services.ratings_freeze(
            year=2026, quarter=4, now=datetime.datetime(2026, 12, 31, 23, tzinfo=SHANGHAI)
        )
    assert not StarRating.objects.exists()


def test_the_task_runs_after_each_quarter():
    from procrastinate.contrib.django import app

    crons = {p.task.name: p.cron for p in app.periodic_registry.periodic_tasks.values()}
    # The first week of January, April, July and October: a worker down on the 1st still does.
    assert crons["command.tasks.ratings_freeze"] == "30 1 1-7 1,4,7,10 *"
    assert tasks.ratings_freeze.queue == "command"
    # 1 October 2026 01:30 UTC: the third quarter has ended.
    stamp = int(datetime.datetime(2026, 10, 1, 1, 30, tzinfo=datetime.UTC).timestamp())
    assert tasks.quarter_before(stamp) == (2026, 3)
    # 31 December 2026 20:00 UTC is already 1 January in Shanghai.
    stamp = int(datetime.datetime(2026, 12, 31, 20, tzinfo=datetime.UTC).timestamp())
    assert tasks.quarter_before(stamp) == (2026, 4)


def test_the_command(territory, capsys):
    call_command("freeze_ratings", "--year", "2026", "--quarter", "3")
    # The fixture's territory has 3 grids, 2 villages and 3 patrolling workers, with no work:
    # every one has households nobody visited, so 1 star on a score of 0.
    assert "8 ratings frozen" in capsys.readouterr().out
    assert set(StarRating.objects.values_list("stars", "score")) == {(1, 0.0)}
    with pytest.raises(CommandError):
        call_command("freeze_ratings", "--year", "2026")
    with pytest.raises(CommandError, match="has not ended"):
        call_command("freeze_ratings", "--year", "2099", "--quarter", "1")


def test_a_wrong_formula_is_said_at_start_up():
    from command.checks import star_formula_check

    assert star_formula_check() == []
    with override_settings(WANGGE_STAR_FORMULA={"weights": {"speed": 1}}):
        (error,) = star_formula_check()
    assert error.id == "command.E001" and "speed" in error.msg
