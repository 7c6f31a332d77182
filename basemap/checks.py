from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register()
def basemap_file_readable(app_configs, **kwargs):
    """A WANGGE_BASEMAP_FILE that cannot be read is said at start-up, not as a broken map."""
    if not settings.WANGGE_BASEMAP_FILE:
        return []
    from .sources import _file_source

    try:
        _file_source(str(settings.WANGGE_BASEMAP_FILE))
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="basemap.E001")]
    return []
