"""Admin: the visit policy and the incident catalogue are configured here; incidents, tracks
and points of interest are read through the same territory selectors as the API (anything
outside one's territory is not found); tracks are the phones' record and are not edited. Every
change form refuses to save over a change made since it was opened (territory.admin.VersionedAdmin)."""

from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from territory.admin import VersionedAdmin

from . import selectors
from .models import Incident, IncidentCategory, PatrolPoint, RoadSegment, Track, VisitPolicy


@admin.register(VisitPolicy)
class VisitPolicyAdmin(VersionedAdmin):
    # No list_editable: a changelist row carries no version, so it could overwrite silently.
    list_display = ("flag", "interval_days")


@admin.register(IncidentCategory)
class IncidentCategoryAdmin(VersionedAdmin):
    list_display = ("code", "name", "name_en", "parent", "active")
    list_filter = ("active", "parent")
    search_fields = ("code", "name", "name_en")


@admin.register(Incident)
class IncidentAdmin(VersionedAdmin, LeafletGeoAdmin):
    list_display = ("id", "item", "severity", "status", "reporter", "grid", "observed_at")
    list_filter = ("status", "severity")
    readonly_fields = ("id", "reporter", "grid", "micro_grid", "territory_path", "created_at")
    list_select_related = ("item", "reporter", "grid")
    show_full_result_count = False

    def get_queryset(self, request):
        return selectors.incidents_for_user(user=request.user)


@admin.register(Track)
class TrackAdmin(LeafletGeoAdmin):
    list_display = ("worker", "started_at", "ended_at", "length_m", "fixes_kept")
    readonly_fields = ("worker", "client_id", "fixes_dropped")
    show_full_result_count = False

    def get_queryset(self, request):
        return selectors.tracks_for_user(user=request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RoadSegment)
class RoadSegmentAdmin(VersionedAdmin, LeafletGeoAdmin):
    # The road network is shared map data (imported from OpenStreetMap), not anyone's territory.
    list_display = ("id", "name", "kind", "source", "length_m")
    list_filter = ("kind", "source")


@admin.register(PatrolPoint)
class PatrolPointAdmin(VersionedAdmin, LeafletGeoAdmin):
    list_display = ("name", "kind", "active")
    list_filter = ("kind", "active")
    search_fields = ("name",)

    def get_queryset(self, request):
        return selectors.patrol_points_for_user(user=request.user)
