"""Admin with Leaflet map widgets (django-leaflet, served from the vendored Leaflet in static/).
Non-superusers see only their territory; a boundary edit creates a new version, never an
in-place change."""

from django.contrib import admin, messages
from leaflet.admin import LeafletGeoAdmin

from . import selectors, services
from .models import Household, RoleAssignment, Unit


@admin.register(Unit)
class UnitAdmin(LeafletGeoAdmin):
    list_display = ("code", "name", "level", "parent_code", "valid_from", "valid_to", "area_m2")
    list_filter = ("level", ("valid_to", admin.EmptyFieldListFilter))
    search_fields = ("code", "name", "name_en")
    # A unit is valid from the moment it is saved; history is written by versions, not edits.
    readonly_fields = ("path", "area_m2", "valid_from", "valid_to", "created_at")
    fields = (
        "level",
        "code",
        "name",
        "name_en",
        "parent_code",
        "boundary",
        "valid_from",
        "valid_to",
        "path",
        "area_m2",
        "created_at",
    )
    ordering = ("code", "-valid_from")
    show_full_result_count = False

    def get_queryset(self, request):
        if request.user.is_superuser:
            return super().get_queryset(request)
        return selectors.units_for_user(user=request.user)

    def save_model(self, request, obj, form, change):
        if change and "boundary" in form.changed_data:
            original = Unit.objects.get(pk=obj.pk)
            try:
                successor = services.unit_replace(
                    unit=original,
                    boundary=obj.boundary,
                    name=obj.name,
                    name_en=obj.name_en,
                )
            except services.TerritoryError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return
            obj.pk = successor.pk
            self.message_user(
                request, f"{original.code}: new boundary version from now; the old one is kept."
            )
            return
        super().save_model(request, obj, form, change)


@admin.register(Household)
class HouseholdAdmin(LeafletGeoAdmin):
    list_display = ("id", "address", "members", "grid", "micro_grid")
    list_filter = ("elderly_living_alone", "left_behind_children", "low_income", "key_attention")
    search_fields = ("address",)
    readonly_fields = ("grid", "micro_grid", "territory_path", "id_number_masked")
    exclude = ("id_number_hash",)
    list_select_related = ("grid", "micro_grid")
    show_full_result_count = False

    def get_queryset(self, request):
        if request.user.is_superuser:
            return super().get_queryset(request)
        return selectors.households_for_user(user=request.user)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "unit_code")
    list_filter = ("role",)
    search_fields = ("user__username", "unit_code")
    autocomplete_fields = ("user",)
