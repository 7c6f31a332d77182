"""The terms of the service catalogue (seed data; pure, no database): for every item of the
incident catalogue (patrols/catalogue.py) its time limit per timed step of the flow
(cases.flow.Step), whether it is a grid matter, a department matter or a small service order
(小微服务), whether an incident of it becomes a case by itself and whether its cases are
disclosed (晒单).

The figures follow what counties publish with their catalogues (Dengzhou: "duties, items,
procedures and time limits are public"): a request is dispatched and accepted within
half a working day, urgent hazards (gas, fire, flood, an open manhole, a suspected epidemic) within
an hour and handled the same day; ordinary matters in 3-5 working days, applications and land
disputes in 10-20. The county's social-governance centre edits them in the admin; seeding only
adds what is missing (a data migration runs it, so a new item gets its terms on the next
`migrate`), and never overwrites an edit.
"""

from dataclasses import dataclass, field

from patrols.catalogue import CATALOGUE

from .flow import Step

GRID = "grid"  # cases.models.Responsible: the grid's own workers
DEPARTMENT = "department"  # a department (职能部门), chosen by item and area
VOLUNTEER = "volunteer"  # a small service order (小微服务) for a volunteer

H = "hours"  # cases.models.LimitUnit: working hours
D = "days"  # working days

# Every timed step's limit unless an item says otherwise. A step added to flow.Step needs a row
# here (cases/tests/test_catalogue.py walks Step), or no item would have a limit for it.
DEFAULT_LIMITS = {
    Step.DISPATCH: (4, H),  # 站点派单: within half a working day
    Step.ACCEPT: (4, H),  # 接单
    Step.ACKNOWLEDGE: (1, D),  # 部门报到 after 基层吹哨
    Step.HANDLE: (5, D),  # 中心消单
    Step.VERIFY: (2, D),  # 社区核单
    Step.PUBLISH: (5, D),  # 组织晒单
}
# Hazards to people's safety: taken up within the hour.
URGENT_LIMITS = {
    Step.DISPATCH: (1, H),
    Step.ACCEPT: (1, H),
    Step.ACKNOWLEDGE: (2, H),
    Step.VERIFY: (1, D),
}


@dataclass(frozen=True)
class Terms:
    responsible: str
    limits: dict = field(default_factory=dict)  # Step -> (amount, unit)
    auto_case: bool = False
    public: bool = True
    yellow_share: float | None = None  # None: the default setting


def terms(
    responsible: str,
    handle: tuple[int, str],
    *,
    auto: bool = False,
    public: bool = True,
    urgent: bool = False,
    yellow: float | None = None,
) -> Terms:
    limits = {**DEFAULT_LIMITS, **(URGENT_LIMITS if urgent else {}), Step.HANDLE: handle}
    return Terms(responsible, limits, auto, public, yellow)


# fmt: off
TERMS = {
    # 01 民生服务
    "0101": terms(DEPARTMENT, (10, D)),
    "0102": terms(VOLUNTEER, (2, D)),
    "0103": terms(VOLUNTEER, (3, D)),
    "0104": terms(DEPARTMENT, (5, D)),
    "0105": terms(DEPARTMENT, (10, D)),
    "0106": terms(DEPARTMENT, (10, D)),
    "0107": terms(DEPARTMENT, (20, D)),  # 低保: the household survey and the public notice
    "0108": terms(VOLUNTEER, (3, D)),
    # 02 污染防治
    "0201": terms(GRID, (2, D)),
    "0202": terms(GRID, (4, H), auto=True, urgent=True, yellow=0.5),
    "0203": terms(DEPARTMENT, (5, D), auto=True),
    "0204": terms(DEPARTMENT, (3, D)),
    "0205": terms(DEPARTMENT, (3, D)),
    "0206": terms(DEPARTMENT, (10, D)),
    "0207": terms(DEPARTMENT, (5, D)),
    # 03 综合治理: what touches key persons and cults is never disclosed
    "0301": terms(GRID, (5, D)),
    "0302": terms(DEPARTMENT, (3, D), auto=True),
    "0303": terms(GRID, (1, D), public=False),
    "0304": terms(DEPARTMENT, (2, D), auto=True, public=False),
    "0305": terms(DEPARTMENT, (2, D)),
    "0306": terms(GRID, (3, D)),
    # 04 安全隐患
    "0401": terms(DEPARTMENT, (7, H), auto=True, urgent=True, yellow=0.5),
    "0402": terms(DEPARTMENT, (4, H), auto=True, urgent=True, yellow=0.5),
    "0403": terms(DEPARTMENT, (3, D), auto=True),
    "0404": terms(GRID, (1, D)),
    "0405": terms(DEPARTMENT, (7, H), auto=True, urgent=True, yellow=0.5),
    "0406": terms(DEPARTMENT, (5, D)),
    "0407": terms(DEPARTMENT, (3, D), auto=True),
    # 05 市容环境
    "0501": terms(DEPARTMENT, (1, D)),
    "0502": terms(DEPARTMENT, (10, D), auto=True),
    "0503": terms(GRID, (2, D)),
    "0504": terms(DEPARTMENT, (5, D)),
    "0505": terms(DEPARTMENT, (5, D)),
    "0506": terms(DEPARTMENT, (1, D)),
    # 06 城市部件
    "0601": terms(DEPARTMENT, (7, H), auto=True, urgent=True, yellow=0.5),
    "0602": terms(DEPARTMENT, (3, D)),
    "0603": terms(DEPARTMENT, (10, D)),
    "0604": terms(DEPARTMENT, (7, H), urgent=True),
    "0605": terms(DEPARTMENT, (2, D)),
    "0606": terms(DEPARTMENT, (10, D)),
    # 07 食品药品安全
    "0701": terms(DEPARTMENT, (10, D)),
    "0702": terms(DEPARTMENT, (2, D), auto=True),
    "0703": terms(DEPARTMENT, (5, D)),
    "0704": terms(DEPARTMENT, (3, D), auto=True),
    # 08 村务社务
    "0801": terms(GRID, (5, D)),
    "0802": terms(GRID, (5, D)),
    "0803": terms(GRID, (3, D)),
    "0804": terms(GRID, (10, D)),
    "0805": terms(VOLUNTEER, (2, D)),
    # 09 卫生健康: a suspected infectious disease is reported within hours and never disclosed
    "0901": terms(DEPARTMENT, (4, H), auto=True, public=False, urgent=True, yellow=0.5),
    "0902": terms(DEPARTMENT, (5, D)),
    "0903": terms(DEPARTMENT, (5, D)),
    "0904": terms(DEPARTMENT, (3, D)),
    "0905": terms(DEPARTMENT, (10, D), auto=True),
    # 10 矛盾纠纷调解: family matters stay private
    "1001": terms(GRID, (5, D)),
    "1002": terms(GRID, (5, D), public=False),
    "1003": terms(DEPARTMENT, (15, D)),
    "1004": terms(DEPARTMENT, (10, D)),
    "1005": terms(DEPARTMENT, (10, D)),
    "1006": terms(DEPARTMENT, (20, D)),
}
# fmt: on

# An item added in the admin, before its terms are typed in, is handled on these.
FALLBACK = terms(GRID, DEFAULT_LIMITS[Step.HANDLE])


def catalogue_item_codes() -> list[str]:
    return [code for _c, _n, _e, items in CATALOGUE for code, _z, _en in items]


def seed(IncidentCategory, ServiceTerms, StepLimit) -> int:
    """Add the terms and step limits that are missing; never change an existing one (models
    passed in, so that a migration can use its own). Returns how many rows it added."""
    added = 0
    items = {c.code: c for c in IncidentCategory.objects.filter(code__in=TERMS)}
    for code, t in TERMS.items():
        item = items.get(code)
        if item is None:  # the catalogue's seed has not run, or the item was removed
            continue
        row, created = ServiceTerms.objects.get_or_create(
            item=item,
            defaults={
                "responsible": t.responsible,
                "auto_case": t.auto_case,
                "public": t.public,
                "yellow_share": t.yellow_share,
            },
        )
        added += created
        have = set(StepLimit.objects.filter(terms=row).values_list("step", flat=True))
        for step, (amount, unit) in t.limits.items():
            if step not in have:
                StepLimit.objects.create(terms=row, step=step, amount=amount, unit=unit)
                added += 1
    return added
