"""The quarterly star ratings (双评) of grids, workers and the party organisations of villages and
communities (pure: no database, no clock). docs/ratings.md is the formula in words.

A subject's figures over the quarter (Figures) each give a part score from 0 to 100:

- on-time closing: the on-time closing rate (a worker: the on-time handling rate of the cases
  they handled, the part that is theirs) x 100;
- rework: (1 - rework / handled) x 100, never below 0;
- satisfaction: the residents' average rating, 1 star = 0 and 5 stars = 100;
- patrol coverage: the share of the households visited in the quarter x 100;
- cards: (1 - (red + yellow x YELLOW_WEIGHT) / cases) x 100, never below 0, where cases are
  those reported (a unit) or handled (a worker) in the quarter.

A part with nothing to measure (no case closed, none rated, no household) is left out and the
weights of the others are scaled up to make 1: an empty part is neither a 0 nor a 100. The score
is the weighted mean of the parts; its stars are the highest level whose threshold it reaches
(1 star below every threshold). With no part at all there is no rating (stars None).

The weights, the thresholds and the version come from settings.WANGGE_STAR_FORMULA when set
(a dict with the keys of DEFAULT_FORMULA); every frozen rating stores the formula it used.
"""

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

PARTS = ("on_time_closing", "rework", "satisfaction", "patrol_coverage", "cards")

DEFAULT_FORMULA = {
    "version": "2026.1",
    "weights": {
        "on_time_closing": 0.30,
        "rework": 0.15,
        "satisfaction": 0.25,
        "patrol_coverage": 0.20,
        "cards": 0.10,
    },
    # The lowest score of 5, 4, 3 and 2 stars; below the last, 1 star.
    "thresholds": {"5": 90.0, "4": 80.0, "3": 70.0, "2": 60.0},
    "yellow_weight": 0.5,
}


class FormulaError(ValueError):
    """A formula in the settings that cannot score: said at start-up, not at the quarter's end."""


@dataclass(frozen=True)
class Formula:
    version: str
    weights: Mapping[str, float]
    thresholds: Mapping[int, float]  # stars -> lowest score
    yellow_weight: float = 0.5

    def as_dict(self) -> dict:
        return {
            "version": self.version,
            "weights": dict(self.weights),
            "thresholds": {str(k): v for k, v in sorted(self.thresholds.items(), reverse=True)},
            "yellow_weight": self.yellow_weight,
        }


def formula_from(config: Mapping | None = None) -> Formula:
    """The formula of a settings dict (DEFAULT_FORMULA for what it leaves out), checked: known
    parts, weights >= 0 not all 0, thresholds for 2 to 5 stars rising with the stars."""
    base = dict(DEFAULT_FORMULA)
    base.update(config or {})
    weights = {**DEFAULT_FORMULA["weights"], **(config or {}).get("weights", {})}
    unknown = set(weights) - set(PARTS)
    if unknown:
        raise FormulaError(f"unknown parts in the weights: {', '.join(sorted(unknown))}")
    try:
        weights = {k: float(weights[k]) for k in PARTS}
        thresholds = {int(k): float(v) for k, v in base["thresholds"].items()}
        yellow = float(base["yellow_weight"])
    except (TypeError, ValueError) as exc:
        raise FormulaError(f"weights, thresholds and yellow_weight are numbers: {exc}") from None
    if any(w < 0 for w in weights.values()) or not sum(weights.values()):
        raise FormulaError("weights are at least 0, and not all 0")
    if sorted(thresholds) != [2, 3, 4, 5]:
        raise FormulaError("thresholds for 2, 3, 4 and 5 stars")
    if not all(thresholds[s] < thresholds[s + 1] for s in (2, 3, 4)):
        raise FormulaError("each star level needs a higher score than the one below")
    return Formula(
        version=str(base["version"]), weights=weights, thresholds=thresholds, yellow_weight=yellow
    )


@dataclass(frozen=True)
class Figures:
    """What a subject's rating comes from: the recorded counts of the quarter."""

    cases: int = 0  # reported in the subject's territory, or handled by the worker
    closed: int = 0  # closed (a worker: handled)
    closed_on_time: int = 0
    handled: int = 0
    rework: int = 0
    rated: int = 0
    rating_sum: int = 0
    households: int = 0
    households_visited: int = 0
    red: int = 0
    yellow: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Rating:
    score: float | None
    stars: int | None
    parts: dict = field(default_factory=dict)  # part -> 0..100, only those measured


def _clip(x: float) -> float:
    return max(0.0, min(100.0, x))


def part_scores(f: Figures, formula: Formula) -> dict[str, float]:
    parts = {}
    if f.closed:
        parts["on_time_closing"] = _clip(100.0 * f.closed_on_time / f.closed)
    if f.handled:
        parts["rework"] = _clip(100.0 * (1 - f.rework / f.handled))
    if f.rated:
        parts["satisfaction"] = _clip(100.0 * (f.rating_sum / f.rated - 1) / 4)
    if f.households:
        parts["patrol_coverage"] = _clip(100.0 * f.households_visited / f.households)
    if f.cases:
        cards = f.red + f.yellow * formula.yellow_weight
        parts["cards"] = _clip(100.0 * (1 - cards / f.cases))
    return parts


def stars_for(score: float, formula: Formula) -> int:
    for stars in (5, 4, 3, 2):
        if score >= formula.thresholds[stars]:
            return stars
    return 1


def rate(figures: Figures, formula: Formula) -> Rating:
    """The score (0-100, two decimals) and stars of one subject's figures."""
    parts = part_scores(figures, formula)
    weight = sum(formula.weights[p] for p in parts)
    if not parts or not weight:
        return Rating(score=None, stars=None, parts=parts)
    score = round(sum(formula.weights[p] * s for p, s in parts.items()) / weight, 2)
    return Rating(
        score=score,
        stars=stars_for(score, formula),
        parts={p: round(s, 2) for p, s in parts.items()},
    )


# --- quarters ------------------------------------------------------------------------------------


def quarter_span(year: int, quarter: int) -> tuple[datetime.date, datetime.date]:
    """The first and last day of a quarter (1-4)."""
    if quarter not in (1, 2, 3, 4):
        raise ValueError(f"a quarter is 1 to 4, not {quarter!r}")
    start = datetime.date(year, 3 * quarter - 2, 1)
    after = (
        datetime.date(year + 1, 1, 1) if quarter == 4 else datetime.date(year, 3 * quarter + 1, 1)
    )
    return start, after - datetime.timedelta(days=1)


def quarter_of(day: datetime.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def last_ended_quarter(today: datetime.date) -> tuple[int, int]:
    """The newest quarter whose last day is before `today`."""
    year, quarter = quarter_of(today)
    return (year - 1, 4) if quarter == 1 else (year, quarter - 1)


def has_ended(year: int, quarter: int, today: datetime.date) -> bool:
    return quarter_span(year, quarter)[1] < today


# --- the annual total ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Annual:
    quarters: dict  # quarter -> (stars, score), only those rated
    total_stars: int
    average_score: float | None


def annual(ratings: Iterable[tuple[int, int | None, float | None]]) -> Annual:
    """The year of one subject from its (quarter, stars, score): the stars added up (at most
    20) and the mean score of the quarters rated."""
    quarters = {q: (s, sc) for q, s, sc in ratings if s is not None}
    scores = [sc for s, sc in quarters.values() if sc is not None]
    return Annual(
        quarters=dict(sorted(quarters.items())),
        total_stars=sum(s for s, _ in quarters.values()),
        average_score=round(sum(scores) / len(scores), 2) if scores else None,
    )
