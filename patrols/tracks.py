"""GPS fixes from a phone: validation and visit detection (pure: numpy, no database).

A fix is (time, lon, lat, accuracy in metres or None). Validation drops, with a reason each:
coordinates out of range, poor accuracy, times in the future or long ago, fixes out of clock
order, duplicates, and jumps faster than a person can move (a GPS glitch). Distances are
measured on the sphere (haversine, `core.coords.distance_m`), in metres.
"""

import datetime
import math
from dataclasses import dataclass, field

import numpy as np

from core import coords


@dataclass(frozen=True)
class Fix:
    recorded_at: datetime.datetime  # aware
    lon: float
    lat: float
    accuracy_m: float | None = None


@dataclass
class Rules:
    max_accuracy_m: float = 50.0
    # Walking, cycling or riding an e-bike between households; a car is not a patrol.
    max_speed_m_s: float = 25.0
    max_age: datetime.timedelta = datetime.timedelta(days=30)
    clock_skew: datetime.timedelta = datetime.timedelta(minutes=5)


@dataclass
class Checked:
    kept: list[Fix]
    dropped: list[dict] = field(default_factory=list)  # {"index", "reason"}


def check_fixes(fixes: list[Fix], *, now: datetime.datetime, rules: Rules | None = None) -> Checked:
    rules = rules or Rules()
    kept: list[Fix] = []
    dropped = []
    for index, fix in enumerate(fixes):
        reason = None
        if not (-180 <= fix.lon <= 180 and -90 <= fix.lat <= 90) or not (
            math.isfinite(fix.lon) and math.isfinite(fix.lat)
        ):
            reason = "coordinates out of range for WGS84 lon/lat"
        elif fix.accuracy_m is not None and not 0 <= fix.accuracy_m <= rules.max_accuracy_m:
            reason = f"accuracy {fix.accuracy_m:.0f} m is worse than {rules.max_accuracy_m:.0f} m"
        elif fix.recorded_at > now + rules.clock_skew:
            reason = "recorded in the future"
        elif fix.recorded_at < now - rules.max_age:
            reason = f"recorded more than {rules.max_age.days} days ago"
        elif kept and fix.recorded_at < kept[-1].recorded_at:
            reason = "out of clock order"
        elif kept and fix.recorded_at == kept[-1].recorded_at:
            reason = "duplicate time"
        elif kept:
            last = kept[-1]
            metres = float(coords.distance_m(last.lon, last.lat, fix.lon, fix.lat))
            seconds = (fix.recorded_at - last.recorded_at).total_seconds()
            if metres / seconds > rules.max_speed_m_s:
                reason = f"impossible speed ({metres / seconds:.0f} m/s)"
        if reason:
            dropped.append({"index": index, "reason": reason})
        else:
            kept.append(fix)
    return Checked(kept, dropped)


def line_length_m(lonlat: np.ndarray) -> float:
    """Metres along a line of lon/lat vertices (n x 2)."""
    lonlat = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    if len(lonlat) < 2:
        return 0.0
    lon, lat = lonlat[:, 0], lonlat[:, 1]
    return float(coords.distance_m(lon[:-1], lat[:-1], lon[1:], lat[1:]).sum())


def path_length_m(fixes: list[Fix]) -> float:
    return line_length_m([(f.lon, f.lat) for f in fixes])


def fixes_from_rows(rows: list[dict], crs: str) -> list[Fix]:
    """Fixes from a phone's JSON ({t, lon, lat, accuracy}) in `crs`; positions out of range
    are kept as they are, for check_fixes to drop with its reason."""
    fixes = []
    for row in rows:
        lon, lat = row["lon"], row["lat"]
        if crs not in (coords.WGS84, coords.CGCS2000) and -180 <= lon <= 180 and -90 <= lat <= 90:
            lon, lat = (float(v) for v in coords.to_wgs84(lon, lat, crs))
        fixes.append(Fix(row["t"], lon, lat, row.get("accuracy")))
    return fixes


@dataclass(frozen=True)
class Stay:
    target: int  # index into the targets given
    arrived: datetime.datetime
    left: datetime.datetime


def detect_stays(
    fixes: list[Fix],
    targets: np.ndarray,
    *,
    radius_m: float = 30.0,
    min_stay: datetime.timedelta = datetime.timedelta(minutes=3),
) -> list[Stay]:
    """Visits seen in a track: runs of consecutive fixes within `radius_m` of a target (a
    household, n x 2 lon/lat) lasting at least `min_stay`. One stay per run; a target visited
    twice in one track gives two stays."""
    targets = np.asarray(targets, dtype=float).reshape(-1, 2)
    if not fixes or not len(targets):
        return []
    lon = np.array([f.lon for f in fixes])
    lat = np.array([f.lat for f in fixes])
    stays = []
    for t, (tlon, tlat) in enumerate(targets):
        near = coords.distance_m(lon, lat, tlon, tlat) <= radius_m
        start = None
        for i, inside in enumerate([*near.tolist(), False]):
            if inside and start is None:
                start = i
            elif not inside and start is not None:
                arrived, left = fixes[start].recorded_at, fixes[i - 1].recorded_at
                if left - arrived >= min_stay:
                    stays.append(Stay(t, arrived, left))
                start = None
    return sorted(stays, key=lambda s: (s.arrived, s.target))
