import datetime

import pytest

from patrols.gpx import GPXError, fixes_from_gpx

GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
 <trk><trkseg>
  <trkpt lat="32.62" lon="112.02"><time>2026-11-22T01:00:00Z</time><hdop>1.2</hdop></trkpt>
  <trkpt lat="32.6201" lon="112.0201"><time>2026-11-22T01:01:00Z</time></trkpt>
 </trkseg></trk>
</gpx>"""


def test_track_points_become_fixes():
    fixes = fixes_from_gpx(GPX)
    assert [(f.lon, f.lat) for f in fixes] == [(112.02, 32.62), (112.0201, 32.6201)]
    assert fixes[0].recorded_at == datetime.datetime(2026, 11, 22, 1, tzinfo=datetime.UTC)
    assert fixes[0].accuracy_m == pytest.approx(6.0) and fixes[1].accuracy_m is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<gpx><trk>", "not a readable GPX file"),
        ('<gpx version="1.1"></gpx>', "no track points"),
        (GPX.replace("<time>2026-11-22T01:00:00Z</time>", ""), "has no time"),
    ],
)
def test_malformed_gpx_is_refused(text, message):
    with pytest.raises(GPXError, match=message):
        fixes_from_gpx(text)
