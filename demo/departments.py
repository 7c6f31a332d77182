"""The demo's departments (职能部门): the usual county bureaus, each covering its county, and a
police station (派出所) and a justice office (司法所) in every township covering that township, so
that a public-order matter goes to the township's station before the county bureau
(cases.selectors.departments_for). Real counties type theirs into the admin."""

from django.db import transaction

from cases.models import Department, DepartmentArea
from patrols.models import IncidentCategory
from territory.codes import Level
from territory.models import Unit

# (code suffix, name, English name, catalogue codes handled: items, or categories for all items)
COUNTY_BUREAUS = [
    (
        "cgj",
        "城市管理局",
        "Urban Management Bureau",
        ["05", "0201", "0601", "0602", "0605", "0606"],
    ),
    (
        "zjj",
        "住房和城乡建设局",
        "Housing and Urban-Rural Development Bureau",
        ["0204", "0402", "0403", "1005"],
    ),
    ("sthjj", "生态环境局", "Ecology and Environment Bureau", ["02"]),
    (
        "mzj",
        "民政局",
        "Civil Affairs Bureau",
        ["0101", "0102", "0103", "0106", "0107", "0108"],
    ),
    (
        "rsj",
        "人力资源和社会保障局",
        "Human Resources and Social Security Bureau",
        ["0104", "0105", "1004"],
    ),
    ("yjglj", "应急管理局", "Emergency Management Bureau", ["0401", "0405", "0407"]),
    ("wjw", "卫生健康委员会", "Health Commission", ["09"]),
    ("slj", "水利局", "Water Resources Bureau", ["0405", "0604"]),
    ("scjgj", "市场监督管理局", "Market Supervision Administration", ["07"]),
    ("jtysj", "交通运输局", "Transport Bureau", ["0406", "0603"]),
    ("zrzyj", "自然资源局", "Natural Resources Bureau", ["0502", "1003", "1006"]),
    ("gaj", "公安局", "Public Security Bureau", ["0302", "0304", "0305", "0306", "0404", "0506"]),
    ("sfj", "司法局", "Justice Bureau", ["10", "0301"]),
]
# Stations of the county's public security and justice bureaus in every township.
TOWNSHIP_STATIONS = [
    ("pcs", "派出所", "police station", ["0302", "0304", "0305", "0306", "0404", "0506"]),
    ("sfs", "司法所", "justice office", ["10", "0301"]),
]


@transaction.atomic
def demo_departments_create() -> int:
    """Add the demo departments of every current county that lacks them; an existing one (by
    code) is left as the admin keeps it. Returns how many were added."""
    units = Unit.objects.current()
    catalogue = {c.code: c for c in IncidentCategory.objects.all()}
    added = 0
    for county in units.filter(level=Level.COUNTY).order_by("code"):
        plan = [
            (f"{county.code}-{suffix}", name, name_en, codes, county.code)
            for suffix, name, name_en, codes in COUNTY_BUREAUS
        ]
        townships = units.filter(level=Level.TOWNSHIP, parent_code=county.code).order_by("code")
        for township in townships:
            for suffix, name, name_en, codes in TOWNSHIP_STATIONS:
                plan.append(
                    (
                        f"{township.code}-{suffix}",
                        f"{township.name}{name}",
                        f"{township.name_en or township.code} {name_en}",
                        codes,
                        township.code,
                    )
                )
        for code, name, name_en, codes, area in plan:
            department, created = Department.objects.get_or_create(
                code=code, defaults={"name": name, "name_en": name_en, "county_code": county.code}
            )
            if not created:
                continue
            department.items.set([catalogue[c] for c in codes if c in catalogue])
            DepartmentArea.objects.create(department=department, unit_code=area)
            added += 1
    return added
