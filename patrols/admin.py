"""Admin: the visit policy and the incident catalogue are configured here; incidents, tracks
and roads can be inspected (non-superusers see only their territory's incidents)."""

from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from . import selectors
from .models import Incident, IncidentCategory, PatrolPoint, RoadSegment, Track, VisitPolicy


@admin.register(VisitPolicy)
class VisitPolicyAdmin(admin.ModelAdmin):
    list_display = ("flag", "interval_days")
    list_editable = ("interval_days",)


@admin.register(IncidentCategory)
class IncidentCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "parent", "active")
    list_filter = ("active", "parent")
    search_fields = ("code", "name", "name_en")


@admin.register(Incident)
class IncidentAdmin(LeafletGeoAdmin):
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


@admin.register(RoadSegment)
class RoadSegmentAdmin(LeafletGeoAdmin):
    list_display = ("id", "name", "kind", "source", "length_m")
    list_filter = ("kind", "source")


@admin.register(PatrolPoint)
class PatrolPointAdmin(LeafletGeoAdmin):
    list_display = ("name", "kind", "active")
    list_filter = ("kind", "active")
    search_fields = ("name",)
