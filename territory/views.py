"""Web pages. The map page is a shell: its data comes from the scoped API."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from . import roles, selectors


@login_required
def home(request):
    """`/`: every role starts from its own work (territory.roles.home_for)."""
    j = selectors.jurisdiction_for(user=request.user)
    return redirect(roles.home_for(j.roles, superuser=j.everything))


@login_required
def map_page(request):
    j = selectors.jurisdiction_for(user=request.user)
    # Drilling into a grid shows its households: offered only to those who may see them.
    sees_households = j.everything or bool(j.household_paths)
    return render(request, "territory/map.html", {"sees_households": sees_households})


@login_required
def resident_page(request):
    """A resident's own page: who serves their grid, and how to reach them."""
    return render(
        request,
        "territory/resident.html",
        {"homes": selectors.grid_contacts_for_user(user=request.user)},
    )
