"""Web pages. The map page is a shell: its data comes from the scoped API."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render


def home(request):
    return redirect("map")


@login_required
def map_page(request):
    return render(request, "territory/map.html")
