"""Fix validation and visit detection, without a database."""

import datetime

import numpy as np
import pytest

from core.coords import distance_m
from patrols.tracks import Fix, Rules, check_fixes, detect_stays, path_length_m

NOW = datetime.datetime(2026, 11, 22, 10, 0, tzinfo=datetime.UTC)


def at(minutes, lon=112.02, lat=32.62, accuracy=5.0):
    return Fix(
        NOW - datetime.timedelta(minutes=60) + datetime.timedelta(minutes=minutes),
        lon,
        lat,
        accuracy,
    )


def test_distance_is_metres():
    # 0.001 degree of latitude is about 111 m
    assert abs(float(distance_m(112.0, 32.6, 112.0, 32.601)) - 111.2) < 0.5


def test_each_bad_fix_is_dropped_with_its_reason():
    fixes = [
        at(0),
        at(1, lon=112.0201),
        at(1, lon=112.0202),  # same time as the previous one
        at(0.5),  # earlier than the last kept
        at(2, accuracy=300),
        at(3, lon=200),
        at(4, lon=112.2),  # 17 km in 3 minutes
        Fix(NOW + datetime.timedelta(hours=1), 112.02, 32.62, 5),
        Fix(NOW - datetime.timedelta(days=90), 112.02, 32.62, 5),
        at(5, lon=112.0203),
    ]
    checked = check_fixes(fixes, now=NOW)
    assert [f.lon for f in checked.kept] == [112.02, 112.0201, 112.0203]
    reasons = {d["index"]: d["reason"] for d in checked.dropped}
    assert reasons[2] == "duplicate time"
    assert reasons[3] == "out of clock order"
    assert reasons[4].startswith("accuracy 300 m")
    assert reasons[5] == "coordinates out of range for WGS84 lon/lat"
    assert reasons[6].startswith("impossible speed")
    assert reasons[7] == "recorded in the future"
    assert reasons[8] == "recorded more than 30 days ago"


def test_rules_are_configurable():
    fixes = [at(0), at(1, lon=112.03)]  # about 940 m in a minute: 15.6 m/s
    assert len(check_fixes(fixes, now=NOW).kept) == 2
    assert len(check_fixes(fixes, now=NOW, rules=Rules(max_speed_m_s=5)).kept) == 1


def test_a_stay_long_enough_near_a_household_is_a_visit():
    house = np.array([[112.02, 32.62], [112.03, 32.63]])
    walk = [at(0, lon=112.019), *[at(m, lon=112.02 + 0.00005 * (m % 2)) for m in range(1, 6)]]
    walk += [at(6, lon=112.025), at(7, lon=112.03, lat=32.63), at(8, lon=112.03, lat=32.63)]
    stays = detect_stays(walk, house, radius_m=30, min_stay=datetime.timedelta(minutes=3))
    assert [(s.target, s.arrived.minute, s.left.minute) for s in stays] == [(0, 1, 5)]
    # the second house was visited for one minute only
    assert (
        detect_stays(walk, house, radius_m=30, min_stay=datetime.timedelta(minutes=1))[-1].target
        == 1
    )


def test_path_length():
    length = path_length_m([at(0), at(1, lat=32.621), at(2, lat=32.622)])
    assert length == pytest.approx(float(distance_m(112.02, 32.62, 112.02, 32.622)), rel=1e-12)
