"""GPX files from a phone or a GPS logger, read with gpxpy into fixes (pure)."""

import datetime

import gpxpy
import gpxpy.gpx

from .tracks import Fix


class GPXError(ValueError):
    pass


def fixes_from_gpx(text: str) -> list[Fix]:
    """Every track point (and route point) with a time. GPX is WGS84 by definition."""
    try:
        document = gpxpy.parse(text)
    except (gpxpy.gpx.GPXException, ValueError) as exc:
        raise GPXError(f"not a readable GPX file: {exc}") from exc
    fixes = []
    for track in document.tracks:
        for segment in track.segments:
            for point in segment.points:
                if point.time is None:
                    raise GPXError("a track point has no time")
                when = point.time
                if when.tzinfo is None:  # GPX times are UTC
                    when = when.replace(tzinfo=datetime.UTC)
                # GPX has no accuracy in metres; HDOP x 5 m (a typical range error) stands in.
                accuracy = point.horizontal_dilution * 5 if point.horizontal_dilution else None
                fixes.append(Fix(when, float(point.longitude), float(point.latitude), accuracy))
    if not fixes:
        raise GPXError("the GPX file holds no track points")
    return fixes
