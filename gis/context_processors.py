from django.utils.functional import SimpleLazyObject

from . import selectors


def navigation(request):
    """What the top bar offers this user (evaluated only when a template asks)."""
    user = getattr(request, "user", None)
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
    }
