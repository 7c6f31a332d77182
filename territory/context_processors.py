from django.conf import settings
from django.utils.functional import SimpleLazyObject

from . import selectors
from .models import RoleChoices


def navigation(request):
    """What the top bar offers this user (evaluated only when a template asks)."""
    user = getattr(request, "user", None)

    def roles():
        """The roles assigned to this user (a superuser holds none: they see everything)."""
        if not (user and user.is_authenticated) or user.is_superuser:
            return frozenset()
        return selectors.jurisdiction_for(user=user).roles

    return {
        "may_plan": SimpleLazyObject(
            lambda: bool(user and user.is_authenticated and selectors.may_divide_grids(user=user))
        ),
        "may_patrol": SimpleLazyObject(
            lambda: bool(
                user
                and user.is_authenticated
                and selectors.jurisdiction_for(user=user).patrol_paths
            )
        ),
        # The API and its docs are for the staff's tools; a resident has no use for them.
        "may_use_api": SimpleLazyObject(
            lambda: bool(
                user
                and user.is_authenticated
                and (user.is_superuser or roles() - {RoleChoices.RESIDENT})
            )
        ),
        "is_resident": SimpleLazyObject(lambda: RoleChoices.RESIDENT in roles()),
        # The case desk: every role but the resident's, who follows their own requests.
        "may_work_cases": SimpleLazyObject(
            lambda: bool(
                user
                and user.is_authenticated
                and (user.is_superuser or roles() - {RoleChoices.RESIDENT})
            )
        ),
        # A resident's requests (群众点单) and their rating: cases' pages for the resident role.
        "may_request_cases": SimpleLazyObject(lambda: RoleChoices.RESIDENT in roles()),
        # The command screen (command/, 一张屏): the commanders' (EDITS_TERRITORY's subtrees).
        "may_command": SimpleLazyObject(
            lambda: bool(
                user
                and user.is_authenticated
                and (
                    user.is_superuser or selectors.jurisdiction_for(user=user).territory_edit_paths
                )
            )
        ),
        # The case indicators: the station and the centre (commanders, village officers).
        "may_see_indicators": SimpleLazyObject(
            lambda: bool(user and user.is_authenticated and selectors.may_divide_grids(user=user))
        ),
    }


def basemap(request):
    """The basemap every map page draws on (`territory/_map_config.html`): tiles, attribution, and
    the CRS the tiles are drawn in, which the pages convert positions to."""
    return {
        "basemap_url": settings.WANGGE_BASEMAP_URL,
        "basemap_attribution": settings.WANGGE_BASEMAP_ATTRIBUTION,
        "basemap_crs": settings.WANGGE_BASEMAP_CRS,
    }
