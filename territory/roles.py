"""What each role may do (pure: no database). The territory a role applies to comes from the
user's RoleAssignment rows; see territory.selectors.jurisdiction_for."""

from .models import RoleChoices as R

# Who sees household names and phones in clear (their own territory only); everyone else who
# sees households at all sees them masked.
SEES_PERSONAL_DATA = frozenset({R.VILLAGE_OFFICER, R.GRID_CHIEF, R.GRID_WORKER, R.MICROGRID_WORKER})
SEES_HOUSEHOLDS = SEES_PERSONAL_DATA | {R.COMMANDER, R.DEPARTMENT_STAFF, R.VOLUNTEER}
WRITES_HOUSEHOLDS = SEES_PERSONAL_DATA
# Importing and replacing boundaries, and running topology checks on a subtree.
EDITS_TERRITORY = frozenset({R.COMMANDER})
# Re-dividing grids into micro-grids (planners: township/county commanders, village officers).
DIVIDES_GRIDS = frozenset({R.COMMANDER, R.VILLAGE_OFFICER})
# Patrolling: walking one's grids, checking in at households, uploading tracks, logging
# incidents. Only in one's own grids (or micro-grid).
PATROLS = frozenset({R.GRID_CHIEF, R.GRID_WORKER, R.MICROGRID_WORKER})
# Seeing incidents: the workers who log them and their superiors up the territory.
SEES_INCIDENTS = PATROLS | {R.VILLAGE_OFFICER, R.COMMANDER, R.DEPARTMENT_STAFF}
# Where each role's day starts (URL names). A user with several roles lands on the work of the
# widest responsibility among them: a commander who is also a grid chief still commands.
# Volunteers and department staff work the cases dispatched to them: the case desk (a URL name
# of cases' pages; territory never imports cases).
HOMES = (
    # The command screen (command/, 一张屏): the whole situation of one's territory.
    (frozenset({R.COMMANDER}), "command"),
    (frozenset({R.VILLAGE_OFFICER}), "planner"),
    (PATROLS, "field"),
    (frozenset({R.DEPARTMENT_STAFF, R.VOLUNTEER}), "case-desk"),
    (frozenset({R.RESIDENT}), "resident"),
)


def home_for(user_roles, *, superuser: bool = False) -> str:
    """The URL name of the page a user with these roles starts from."""
    if superuser:
        return "map"
    for holders, home in HOMES:
        if holders & set(user_roles):
            return home
    return "map"
