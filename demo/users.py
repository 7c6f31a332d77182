"""One demo login per role, attached to sensible places of the demo territory."""

from django.contrib.auth import get_user_model
from django.db import transaction

from cases.models import Department
from territory.codes import Level
from territory.models import Household, RoleAssignment, RoleChoices, Unit
from territory.services import role_assign

DEMO_PASSWORD = "wangge-demo"
# Duty phones of the demo's staff (a made-up range), shown to the residents of their grids.
DEMO_WORK_PHONES = {
    "officer": "0377-6221-0001",
    "grid_chief": "139-0377-0001",
    "grid_worker": "139-0377-0002",
    "microgrid_worker": "139-0377-0003",
}


@transaction.atomic
def demo_users_create() -> list[tuple[str, str, str]]:
    units = Unit.objects.current()
    county = units.filter(level=Level.COUNTY).order_by("code").first()
    if county is None:
        return []
    street = units.filter(level=Level.TOWNSHIP, parent_code=county.code).order_by("code").first()
    community = units.filter(level=Level.VILLAGE, parent_code=street.code).order_by("code").first()
    grids = list(units.filter(level=Level.GRID, parent_code=community.code).order_by("code")[:2])
    micro = units.filter(level=Level.MICROGRID, parent_code=grids[0].code).order_by("code").first()
    plan = [
        ("admin", None, county, "管理员"),
        ("commander", RoleChoices.COMMANDER, county, "指挥长"),
        ("street_commander", RoleChoices.COMMANDER, street, "街道指挥"),
        ("officer", RoleChoices.VILLAGE_OFFICER, community, "信息员"),
        ("grid_chief", RoleChoices.GRID_CHIEF, grids[0], "网格长"),
        ("grid_worker", RoleChoices.GRID_WORKER, grids[0], "网格员"),
        ("microgrid_worker", RoleChoices.MICROGRID_WORKER, micro or grids[0], "微网格员"),
        ("volunteer", RoleChoices.VOLUNTEER, community, "志愿者"),
        ("department", RoleChoices.DEPARTMENT_STAFF, county, "职能部门"),
        # Lives where the demo's grid chief and workers serve, so that their page lists them.
        ("resident", RoleChoices.RESIDENT, micro or grids[0], "群众"),
    ]
    User = get_user_model()
    rows = []
    for username, role, unit, title in plan:
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": title, "is_staff": role is None}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.is_superuser = role is None
            user.save()
        if not user.work_phone and username in DEMO_WORK_PHONES:
            user.work_phone = DEMO_WORK_PHONES[username]
            user.save(update_fields=["work_phone"])
        if role and not RoleAssignment.objects.filter(user=user, role=role).exists():
            role_assign(user=user, role=role, unit_code=unit.code)
        if role == RoleChoices.RESIDENT:
            _give_a_home(user, unit)
        if role == RoleChoices.DEPARTMENT_STAFF:
            # The demo's department login works for the urban management bureau (城管局).
            bureau = Department.objects.filter(code=f"{county.code}-cgj").first()
            if bureau is not None:
                bureau.members.add(user)
        rows.append((username, role or "superuser", f"{unit.name} {unit.code}"))
    return rows


def _give_a_home(user, unit) -> None:
    """The demo resident lives in the first household of their unit: their requests can be
    sent from "my home"."""
    assignment = RoleAssignment.objects.filter(
        user=user, role=RoleChoices.RESIDENT, unit_code=unit.code
    ).first()
    if assignment is None or assignment.household_id is not None:
        return
    home = Household.objects.in_subtree([unit.path]).order_by("pk").first()
    if home is not None:
        assignment.household = home
        assignment.save(update_fields=["household"])
