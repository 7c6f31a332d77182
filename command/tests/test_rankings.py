"""The rankings of command.rankings against the quarter of conftest.py worked out by hand (see
its docstring), scoped to the asking user, in a number of queries that does not grow."""

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from rest_framework.exceptions import PermissionDenied

from cases.indicators import IndicatorError
from command import rankings
from territory.services import role_assign
from territory.tests.factories import UnitFactory, UserFactory

from .conftest import B1A, G1, G2, GB, Q3, at, report

pytestmark = pytest.mark.django_db


def ranked(t, level, who="commander", unit="411381", by="score"):
    _, _, _, _, rows = rankings.ranking(
        user=t.users[who], unit_code=unit, level=level, start=Q3[0], end=Q3[1], by=by
    )
    return rows


def test_the_rankings_by_hand(quarter):
    _grids(quarter)
    _villages_and_townships(quarter)
    _other_orders(quarter)
    _workers(quarter)


def _grids(quarter):
    rows = ranked(quarter, "grid")
    assert [(r.rank, r.code) for r in rows] == [(1, G2), (2, G1), (3, GB)]
    g2, g1, gb = rows
    # G2: 2 reported, 3 handles, 1 rework, 2 closed on time, ratings 4 and 2, 1 household unvisited.
    assert (g2.reported, g2.handled, g2.rework, g2.closed, g2.closed_on_time) == (2, 3, 1, 2, 2)
    assert (g2.satisfaction_avg, g2.households, g2.patrol_coverage) == (3.0, 1, 0.0)
    # 0.3 x 100 + 0.15 x 66.67 + 0.25 x 50 + 0.2 x 0 + 0.1 x 100
    assert (g2.score, g2.stars) == (62.5, 2)
    # G1: closed late, a rework of 2 handles, both households visited, a red and a yellow card.
    assert (g1.closed, g1.closed_on_time, g1.on_time_closing_rate) == (1, 0, 0.0)
    assert (g1.overdue, g1.yellow, g1.rework_rate) == (1, 1, 0.5)
    assert (g1.households, g1.households_visited, g1.patrol_coverage) == (2, 2, 1.0)
    # (0.3 x 0 + 0.15 x 50 + 0.2 x 100 + 0.1 x 0) / 0.75: satisfaction unmeasured, left out.
    assert (g1.score, g1.stars) == (36.67, 1)
    # GB: one case rejected, nothing closed or handled; coverage 0 and cards 100.
    assert (gb.reported, gb.closed, gb.score) == (1, 0, 33.33)


def _villages_and_townships(quarter):
    villages = ranked(quarter, "village")
    assert [(r.code, r.score, r.stars) for r in villages] == [
        # 0.3 x 66.67 + 0.15 x 60 + 0.25 x 50 + 0.2 x 66.67 + 0.1 x 50
        ("411381001001", 59.83, 1),
        ("411381101201", 33.33, 1),
    ]
    v = villages[0]
    assert (v.reported, v.handled, v.rework, v.households, v.households_visited) == (3, 5, 2, 3, 2)
    townships = ranked(quarter, "township")
    assert [(r.code, r.score) for r in townships] == [("411381001", 59.83), ("411381101", 33.33)]


def _other_orders(quarter):
    by_coverage = ranked(quarter, "grid", by="patrol_coverage")
    assert [(r.rank, r.code) for r in by_coverage] == [(1, G1), (2, G2), (2, GB)]
    # Fewest red cards first; equal values share a rank.
    by_overdue = ranked(quarter, "grid", by="overdue")
    assert [(r.rank, r.code) for r in by_overdue] == [(1, G2), (1, GB), (3, G1)]
    # Nothing to rate comes last, whichever way is better.
    by_satisfaction = ranked(quarter, "grid", by="satisfaction_avg")
    assert [r.code for r in by_satisfaction] == [G2, G1, GB]


def _workers(quarter):
    rows = {r.name: r for r in ranked(quarter, "worker")}
    t = quarter
    names = {
        who: (t.users[who].last_name + t.users[who].first_name)
        for who in ("grid_worker", "grid_chief", "microgrid_worker")
    }
    assert set(rows) == set(names.values())  # the volunteer patrols nothing: not ranked
    w = rows[names["grid_worker"]]
    assert (w.handled, w.closed_on_time, w.rework, w.overdue, w.yellow) == (2, 1, 1, 1, 1)
    assert (w.visits, w.households, w.households_visited, w.incidents) == (3, 2, 2, 0)
    # (0.3 x 50 + 0.15 x 50 + 0.2 x 100 + 0.1 x (1 - 1.5 / 2) x 100) / 0.75
    assert (w.rank, w.score, w.stars) == (1, 60.0, 2)
    chief, micro = rows[names["grid_chief"]], rows[names["microgrid_worker"]]
    assert (chief.households, chief.patrol_coverage, chief.score, chief.rank) == (2, 0.0, 0.0, 2)
    assert (micro.households, micro.score, micro.rank) == (1, 0.0, 2)


def test_scoped_to_the_user_in_a_fixed_number_of_queries(quarter):
    # The township's commander sees its grids only, and by default its own township.
    _, _, _, _, rows = rankings.ranking(
        user=quarter.users["township_commander"], level="grid", start=Q3[0], end=Q3[1]
    )
    assert [r.code for r in rows] == [G2, G1]
    with pytest.raises(Http404):
        ranked(quarter, "grid", who="township_commander", unit="411381101")
    with pytest.raises(Http404):
        ranked(quarter, "grid", who="village_officer", unit="411381")
    with pytest.raises(PermissionDenied):
        ranked(quarter, "grid", who="grid_worker", unit=G1)

    def queries():
        counts = {}
        for level in ("grid", "worker", "village"):
            with CaptureQueriesContext(connection) as ctx:
                ranked(quarter, level)
            counts[level] = len(ctx)
        return counts

    before = queries()
    assert max(before.values()) <= 5, before
    # More grids, more workers, more cases: the same number of queries.
    for n in range(2, 6):
        UnitFactory(
            level="grid", code=f"411381101201{n:03d}", parent_code="411381101201", name=f"B{n}"
        )
        role_assign(
            user=UserFactory(username=f"w{n}"), role="grid_worker", unit_code=f"411381101201{n:03d}"
        )
    report(quarter, at(9, 4, 10), where=B1A, who="commander")
    assert queries() == before
    assert len(ranked(quarter, "grid")) == 7 and len(ranked(quarter, "worker")) == 7


def test_bad_parameters(territory):
    for params, where in (
        ({"level": "county"}, "level"),
        ({"by": "name"}, "by"),
        ({"start": "2026-09-31", "end": "2026-10-01"}, "start"),
        ({"unit_code": "41x"}, "unit"),
    ):
        args = {"level": "grid", "start": Q3[0], "end": Q3[1], "unit_code": "411381", **params}
        with pytest.raises(IndicatorError) as refused:
            rankings.ranking(user=territory.users["commander"], **args)
        assert where in {p.where for p in refused.value.problems}
