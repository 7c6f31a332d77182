"""Web pages. The map page is a shell: its data comes from the scoped API."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render


def home(request):
    return redirect("map")


@login_required
def map_page(request):
    return render(
        request,
        "gis/map.html",
        {
            "basemap_url": settings.WANGGE_BASEMAP_URL,
            "basemap_attribution": settings.WANGGE_BASEMAP_ATTRIBUTION,
            "basemap_crs": settings.WANGGE_BASEMAP_CRS,
        },
    )
