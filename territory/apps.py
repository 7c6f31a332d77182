from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TerritoryConfig(AppConfig):
    # The app label is the package name; django.contrib.gis owns the label "gis".
    name = "territory"
    label = "territory"
    verbose_name = _("Territory")
