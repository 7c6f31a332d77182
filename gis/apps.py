from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TerritoryConfig(AppConfig):
    # django.contrib.gis already owns the label "gis".
    name = "gis"
    label = "territory"
    verbose_name = _("Territory")
