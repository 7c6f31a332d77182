"""The star rating formula without a database: the part scores by hand, a part with nothing to
measure left out, the thresholds, a configured formula and its checks, the quarters, the
annual total."""

import datetime

import pytest

from command import ratings
from command.ratings import Figures, FormulaError

F = ratings.formula_from(None)


def test_the_parts_by_hand():
    f = Figures(
        cases=10,
        closed=8,
        closed_on_time=6,
        handled=10,
        rework=2,
        rated=4,
        rating_sum=16,
        households=20,
        households_visited=15,
        red=1,
        yellow=2,
    )
    r = ratings.rate(f, F)
    assert r.parts == {
        "on_time_closing": 75.0,
        "rework": 80.0,
        "satisfaction": 75.0,  # average 4: (4 - 1) / 4
        "patrol_coverage": 75.0,
        "cards": 80.0,  # 1 - (1 + 2 x 0.5) / 10
    }
    # 0.30 x 75 + 0.15 x 80 + 0.25 x 75 + 0.20 x 75 + 0.10 x 80 = 76.25
    assert r.score == 76.25 and r.stars == 3


def test_a_part_with_nothing_to_measure_is_left_out():
    # Only patrols: no case, so the score is the coverage alone, not dragged to 0 or 100.
    r = ratings.rate(Figures(households=10, households_visited=9), F)
    assert r.parts == {"patrol_coverage": 90.0}
    assert r.score == 90.0 and r.stars == 5
    nothing = ratings.rate(Figures(), F)
    assert (nothing.score, nothing.stars, nothing.parts) == (None, None, {})


@pytest.mark.parametrize(
    "score, stars", [(100, 5), (90, 5), (89.99, 4), (80, 4), (70, 3), (60, 2), (59.9, 1), (0, 1)]
)
def test_the_thresholds(score, stars):
    assert ratings.stars_for(score, F) == stars


def test_parts_are_clipped():
    # More cards than cases, more rework than handles: 0, not negative.
    r = ratings.rate(Figures(cases=1, red=3, handled=1, rework=2), F)
    assert r.parts == {"rework": 0.0, "cards": 0.0} and r.stars == 1


def test_a_configured_formula():
    custom = ratings.formula_from(
        {"version": "county-2027", "weights": {"patrol_coverage": 0, "satisfaction": 1}}
    )
    assert custom.version == "county-2027"
    f = Figures(rated=2, rating_sum=10, households=10, households_visited=0)
    # Coverage weighs nothing: satisfaction 100 alone.
    assert ratings.rate(f, custom).score == 100.0
    assert ratings.rate(f, F).score == pytest.approx(100 * 0.25 / 0.45, abs=0.01)
    assert custom.as_dict()["thresholds"] == {"5": 90.0, "4": 80.0, "3": 70.0, "2": 60.0}


@pytest.mark.parametrize(
    "config",
    [
        {"weights": {"speed": 1}},
        {"weights": {"rework": -1}},
        {"weights": dict.fromkeys(ratings.PARTS, 0)},
        {"thresholds": {"5": 90, "4": 95, "3": 70, "2": 60}},
        {"thresholds": {"5": 90}},
        {"yellow_weight": "half"},
    ],
)
def test_a_bad_formula_is_refused(config):
    with pytest.raises(FormulaError):
        ratings.formula_from(config)


def test_the_quarters():
    assert ratings.quarter_span(2026, 4) == (
        datetime.date(2026, 10, 1),
        datetime.date(2026, 12, 31),
    )
    assert ratings.quarter_span(2026, 1) == (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
    assert ratings.last_ended_quarter(datetime.date(2026, 12, 1)) == (2026, 3)
    assert ratings.last_ended_quarter(datetime.date(2027, 1, 1)) == (2026, 4)
    assert ratings.has_ended(2026, 3, datetime.date(2026, 10, 1))
    assert not ratings.has_ended(2026, 4, datetime.date(2026, 12, 31))
    with pytest.raises(ValueError):
        ratings.quarter_span(2026, 5)


def test_the_annual_total():
    a = ratings.annual([(1, 4, 85.0), (2, None, None), (3, 5, 95.5)])
    assert a.total_stars == 9 and a.average_score == 90.25
    assert a.quarters == {1: (4, 85.0), 3: (5, 95.5)}
    assert ratings.annual([]).average_score is None
