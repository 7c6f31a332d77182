"""The weekly report commanders send upward: the case indicators and the rankings as one xlsx
workbook (cases.indicators' style: a title row, a bold frozen header in the reader's language,
rates as percentages), and a map as one self-contained HTML file (folium) with the per-grid or
per-village figures, whose every script and style is inlined from the vendored files
(static/vendor): it opens on a machine with no network, and has no tile layer to fetch.

Nothing about residents is in either file: only units, their figures and the names of staff."""

import base64
import html
import io
import json
import re
from functools import cache
from pathlib import Path

from django.contrib.staticfiles import finders
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from cases import indicators
from cases.indicators import COUNT, RATE, SCORE, TEXT, Column

RANKING_COLUMNS: tuple[Column, ...] = (
    Column("rank", _("Rank"), COUNT, 6),
    Column("code", pgettext_lazy("indicators", "Code"), TEXT, 18),
    Column("name", _("Name"), TEXT, 24),
    Column("score", _("Score"), SCORE, 8),
    Column("stars", _("Stars"), COUNT, 7),
    Column("reported", pgettext_lazy("indicators", "Reported"), COUNT, 10),
    Column("handled", pgettext_lazy("indicators", "Handled"), COUNT, 10),
    Column("closed", pgettext_lazy("indicators", "Closed"), COUNT, 10),
    Column("on_time_closing_rate", pgettext_lazy("indicators", "On-time closing rate"), RATE, 14),
    Column("rework", pgettext_lazy("indicators", "Rework"), COUNT, 10),
    Column("rework_rate", _("Rework rate"), RATE, 10),
    Column("overdue", pgettext_lazy("indicators", "Overdue (red cards)"), COUNT, 12),
    Column("yellow", pgettext_lazy("indicators", "Yellow cards"), COUNT, 10),
    Column("satisfaction_avg", pgettext_lazy("indicators", "Satisfaction (average)"), SCORE, 12),
    Column("satisfaction_count", pgettext_lazy("indicators", "Ratings"), COUNT, 10),
    Column("households", _("Households"), COUNT, 10),
    Column("households_visited", _("Households visited"), COUNT, 10),
    Column("patrol_coverage", _("Patrol coverage"), RATE, 12),
)
WORKER_COLUMNS = RANKING_COLUMNS[:5] + (
    Column("incidents", _("Incidents logged"), COUNT, 10),
    Column("visits", _("Visits"), COUNT, 10),
    *RANKING_COLUMNS[6:],
)

LEVEL_TITLES = {
    "township": _("Townships"),
    "village": _("Villages and communities"),
    "grid": _("Grids"),
    "worker": _("Workers"),
}


def filename(unit_code: str, period, extension: str) -> str:
    return f"weekly_{unit_code}_{period.start:%Y%m%d}-{period.end:%Y%m%d}.{extension}"


def title(unit, period) -> str:
    return gettext("Weekly report: %(unit)s (%(code)s), %(start)s to %(end)s") % {
        "unit": unit.name,
        "code": unit.code,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }


def to_xlsx(*, unit, period, indicator_rows, rankings: dict) -> bytes:
    """The indicators sheet (the unit, then its children), then one ranking sheet per level
    (`rankings`: level -> standings, best first)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = str(pgettext_lazy("indicators", "Indicators"))[:31]
    heading = title(unit, period)
    indicators.write_sheet(sheet, indicator_rows, heading=heading, columns=indicators.COLUMNS)
    ranking = gettext("Ranking")
    for level, standings in rankings.items():
        sheet = book.create_sheet(str(LEVEL_TITLES[level])[:31])
        columns = WORKER_COLUMNS if level == "worker" else RANKING_COLUMNS
        indicators.write_sheet(
            sheet,
            standings,
            heading=f"{heading} · {ranking}: {LEVEL_TITLES[level]}",
            columns=columns,
            first_bold=False,
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- the map -------------------------------------------------------------------------------------

# Score classes, as the stars (command.ratings' default thresholds), from red to green.
COLOURS = ("#d73027", "#fc8d59", "#fee08b", "#91cf60", "#1a9850")
NO_SCORE = "#bdbdbd"


@cache
def _vendored(name: str) -> str:
    path = finders.find(name)
    if not path:
        raise FileNotFoundError(f"{name} is not vendored: run scripts/vendor_assets.py")
    return Path(path).read_text(encoding="utf-8")


def _leaflet_css() -> str:
    """leaflet.css with its images as data: URLs (nothing to fetch)."""
    css = _vendored("vendor/leaflet/leaflet.css")

    def inline(match):
        path = finders.find(f"vendor/leaflet/{match.group(1)}")
        if not path:
            return "none"
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", inline, css)


def _script(text: str) -> str:
    # A vendored file is ours, but "</script" inside it would still end the element early.
    return "<script>" + text.replace("</script", "<\\/script") + "</script>"


def colour_for(stars: int | None) -> str:
    return NO_SCORE if stars is None else COLOURS[stars - 1]


def _cell(value, kind) -> str:
    return indicators.cell_text(value, kind) or "–"


def feature_collection(standings, geometries: dict) -> dict:
    """GeoJSON of the ranked units (those with a boundary), every property already text and
    HTML-escaped: folium's tooltip writes them into innerHTML as they are."""
    features = []
    for s in standings:
        geometry = geometries.get(s.code)
        if geometry is None:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(geometry),
                "properties": {
                    "name": html.escape(f"{s.name} ({s.code})"),
                    "rank": str(s.rank),
                    "score": html.escape(_cell(s.score, SCORE)),
                    "stars": "★" * (s.stars or 0) or "–",
                    "reported": str(s.reported),
                    "on_time": html.escape(_cell(s.on_time_closing_rate, RATE)),
                    "overdue": str(s.overdue),
                    "satisfaction": html.escape(_cell(s.satisfaction_avg, SCORE)),
                    "coverage": html.escape(_cell(s.patrol_coverage, RATE)),
                    "colour": colour_for(s.stars),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


TOOLTIP_FIELDS = (
    ("name", pgettext_lazy("indicators", "Territory")),
    ("rank", _("Rank")),
    ("score", _("Score")),
    ("stars", _("Stars")),
    ("reported", pgettext_lazy("indicators", "Reported")),
    ("on_time", pgettext_lazy("indicators", "On-time closing rate")),
    ("overdue", pgettext_lazy("indicators", "Overdue (red cards)")),
    ("satisfaction", pgettext_lazy("indicators", "Satisfaction (average)")),
    ("coverage", _("Patrol coverage")),
)


def to_html(*, unit, period, level: str, standings, geometries: dict) -> str:
    """The folium map of the ranked units coloured by their stars, with a tooltip of their
    figures and a legend, as one HTML document that needs no network."""
    import folium

    collection = feature_collection(standings, geometries)
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=False)
    # folium's defaults are CDN links (Leaflet, jQuery, Bootstrap, Font Awesome): none of them
    # is reachable on the intranet, and the map needs only Leaflet, inlined below.
    m.default_js = []
    m.default_css = []
    header = m.get_root().header
    header.add_child(folium.Element(f"<style>{_leaflet_css()}</style>"), name="leaflet_css")
    header.add_child(
        folium.Element(_script(_vendored("vendor/leaflet/leaflet.js"))), name="leaflet"
    )
    header.add_child(folium.Element(f"<style>{_MAP_CSS}</style>"), name="report_css")
    layer = folium.GeoJson(
        collection,
        name=str(LEVEL_TITLES[level]),
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#333333",
            "weight": 1,
            "fillOpacity": 0.7,
        },
        highlight_function=lambda f: {"weight": 3},
        tooltip=folium.GeoJsonTooltip(
            fields=[name for name, _label in TOOLTIP_FIELDS],
            aliases=[html.escape(str(label)) for _name, label in TOOLTIP_FIELDS],
        ),
    )
    layer.add_to(m)
    if collection["features"]:
        m.fit_bounds(_bounds(collection))
    m.get_root().html.add_child(folium.Element(_legend(unit, period, level)))
    m.get_root().title = html.escape(title(unit, period))  # folium writes it as it is
    return m.get_root().render()


def _bounds(collection) -> list[list[float]]:
    xs, ys = [], []

    def walk(coords):
        if coords and isinstance(coords[0], (int, float)):
            xs.append(coords[0])
            ys.append(coords[1])
        else:
            for c in coords:
                walk(c)

    for f in collection["features"]:
        walk(f["geometry"]["coordinates"])
    return [[min(ys), min(xs)], [max(ys), max(xs)]]


def _legend(unit, period, level) -> str:
    nothing, what = gettext("Nothing to rate"), gettext("stars of the score")
    rows = "".join(
        f'<li><span class="swatch" style="background:{COLOURS[s - 1]}"></span>{"★" * s}</li>'
        for s in (5, 4, 3, 2, 1)
    )
    rows += (
        f'<li><span class="swatch" style="background:{NO_SCORE}"></span>{html.escape(nothing)}</li>'
    )
    return (
        '<div class="report-legend">'
        f"<strong>{html.escape(title(unit, period))}</strong>"
        f"<p>{html.escape(str(LEVEL_TITLES[level]))}: {html.escape(what)}</p>"
        f"<ul>{rows}</ul></div>"
    )


_MAP_CSS = """
html, body { margin: 0; height: 100%; font-family: sans-serif; }
.folium-map { background: #f4f4f0; }
.report-legend { position: fixed; z-index: 1000; right: 10px; bottom: 24px; max-width: 18em;
  background: #fff; padding: 8px 10px; border: 1px solid #999; border-radius: 4px;
  font-size: 13px; }
.report-legend ul { list-style: none; margin: 4px 0 0; padding: 0; }
.report-legend .swatch { display: inline-block; width: 14px; height: 14px; margin-right: 6px;
  vertical-align: middle; border: 1px solid #666; }
.foliumtooltip table th { text-align: left; padding-right: 8px; }
"""
