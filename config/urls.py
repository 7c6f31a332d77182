from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as account_views
from microgrids import views as microgrid_views
from patrols import views as patrol_views
from territory import views as territory_views

urlpatterns = [
    path("", territory_views.home, name="home"),
    path("map/", territory_views.map_page, name="map"),
    path("me/", territory_views.resident_page, name="resident"),
    path("planner/", microgrid_views.planner_page, name="planner"),
    path("field/", patrol_views.field_page, name="field"),
    path("field/manifest.webmanifest", patrol_views.manifest, name="field-manifest"),
    path("field/sw.js", patrol_views.service_worker, name="field-sw"),
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Before Django's own: the switcher also keeps a logged-in user's language.
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("cases.page_urls")),
    path("", include("basemap.urls")),  # /tiles/{z}/{x}/{y}.mvt
    path("", include("core.urls")),  # /healthz and the API root /api/
    path("api/", include("territory.api.urls")),
    path("api/", include("microgrids.urls")),
    path("api/", include("patrols.urls")),
    path("api/", include("cases.urls")),
    path("api/", include("command.urls")),
    path("", include("command.page_urls")),
    path("open311/v2/", include("open311.urls")),  # GeoReport v2, its own formats and errors
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Split: the start-up script comes from its own URL, so the CSP needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
]
# No static(settings.MEDIA_URL, ...), not even with DEBUG: incident photos are served only by
# the permission-checked /api/incidents/{id}/photos/{n}/.

handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"
