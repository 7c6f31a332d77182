"""The micro-grid planner page: a shell, its data comes from the scoped API."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from territory import selectors

# The planner's grid picker lists at most this many grids; larger territories type a code.
PLANNER_GRID_CHOICES = 500


@login_required
def planner_page(request):
    """Re-divide a grid into micro-grids: preview, adjust, commit (all through the API)."""
    if not selectors.may_divide_grids(user=request.user):
        raise PermissionDenied("your role does not plan micro-grids")
    grids = selectors.grids_to_divide_for_user(user=request.user)[:PLANNER_GRID_CHOICES]
    return render(
        request,
        "microgrids/planner.html",
        {"grids": list(grids.values("code", "name")), "chosen": request.GET.get("grid", "")},
    )
