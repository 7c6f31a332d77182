"""Admin with Leaflet map widgets (django-leaflet, served from the vendored Leaflet in static/).

Staff who are not superusers get what the API gives them: only their territory (through the
same selectors, so anything else is "not found"), household names and phones masked where
their roles do not show them, and writes only where their roles write. A boundary edit creates
a new version, never an in-place change. Every change form carries the edit version it was
loaded with and refuses to save over a change made since."""

import shapely
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from . import privacy, selectors, services
from .boundary_io import RawFeature
from .models import Household, RoleAssignment, ScheduledChange, Unit

STALE_MESSAGE = _(
    "Someone changed this record since you opened it; reload the page and make your change "
    "again. Nothing was saved."
)


class VersionedAdminForm(forms.ModelForm):
    """A change form that remembers the version it was loaded with (hidden) and, under a lock
    on the row, refuses to save when the row's version has moved since."""

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["loaded_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            return cleaned
        rows = type(self.instance)._default_manager.filter(pk=self.instance.pk)
        if connection.in_atomic_block:
            # The admin saves in the same transaction: the lock holds until the row is written,
            # so a second save on the same version waits and is then refused.
            rows = rows.select_for_update()
        current = rows.values_list("version", flat=True).first()
        loaded = cleaned.get("loaded_version")
        if loaded is None or loaded != current:
            raise ValidationError(STALE_MESSAGE, code="stale")
        return cleaned


class VersionedAdmin(admin.ModelAdmin):
    form = VersionedAdminForm

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f != "loaded_version"]
        if obj is not None and self.has_change_permission(request, obj):
            fields.append("loaded_version")
        return fields


def _jurisdiction(request):
    return selectors.jurisdiction_for(user=request.user)


def _may_write_households(request, obj=None) -> bool:
    j = _jurisdiction(request)
    if obj is None:
        return j.everything or bool(j.household_write_paths)
    return j.covers(obj.territory_path, j.household_write_paths)


class UnitAdminForm(VersionedAdminForm):
    """Writes through the services, here in `clean` because the form is where the admin can
    show their refusals; the admin's whole view is one transaction, so nothing is left half
    done. Adding runs the rules of an import (containment in the parent, households only from
    the editor's territory); a new boundary or name is a new version (unit_replace)."""

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        user = getattr(self, "user", None)
        try:
            if self.instance.pk is None:
                services.boundaries_import(
                    features=[
                        RawFeature(
                            index=0,
                            properties={"name_en": cleaned.get("name_en") or ""},
                            geometry=shapely.from_wkb(bytes(cleaned["boundary"].wkb)),
                        )
                    ],
                    level=cleaned["level"],
                    parent_code=cleaned.get("parent_code") or None,
                    code=cleaned["code"],
                    name=cleaned["name"],
                    user=user,
                )
                self.written = (
                    Unit.objects.filter(code=cleaned["code"], valid_to__isnull=True)
                    .order_by("-valid_from")
                    .first()
                )
            elif {"boundary", "name", "name_en"} & set(self.changed_data):
                original = Unit.objects.get(pk=self.instance.pk)
                self.written = services.unit_replace(
                    unit=original,
                    boundary=cleaned["boundary"],
                    name=cleaned["name"],
                    name_en=cleaned.get("name_en") or "",
                    user=user,
                )
        except services.TerritoryError as exc:
            for problem in exc.problems:
                self.add_error(None, problem.message)
        return cleaned


@admin.register(Unit)
class UnitAdmin(VersionedAdmin, LeafletGeoAdmin):
    form = UnitAdminForm
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

    # Editing the territory is the commanders' (as for imports over the API).
    def has_add_permission(self, request):
        j = _jurisdiction(request)
        return super().has_add_permission(request) and (
            j.everything or bool(j.territory_edit_paths)
        )

    def has_change_permission(self, request, obj=None):
        j = _jurisdiction(request)
        allowed = super().has_change_permission(request, obj)
        if obj is None:
            return allowed
        return allowed and j.covers(obj.path, j.territory_edit_paths)

    def has_delete_permission(self, request, obj=None):
        j = _jurisdiction(request)
        allowed = super().has_delete_permission(request, obj)
        if obj is None:
            return allowed
        return allowed and j.covers(obj.path, j.territory_edit_paths)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.user = request.user
        return form

    def get_readonly_fields(self, request, obj=None):
        # A unit's identity never changes in place: a new code, level or parent is a new unit.
        if obj is not None:
            return (*self.readonly_fields, "level", "code", "parent_code")
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        written = getattr(form, "written", None)
        if written is None:  # nothing that makes a version changed
            return
        obj.pk = written.pk
        if change:
            self.message_user(
                request, f"{written.code}: new version from now; the old one is kept."
            )

    def delete_model(self, request, obj):
        services.unit_retire(unit=obj)

    def delete_queryset(self, request, queryset):
        for unit in queryset.filter(valid_to__isnull=True):
            services.unit_retire(unit=unit)


class HouseholdAdminForm(VersionedAdminForm):
    def clean(self):
        cleaned = super().clean()
        location = cleaned.get("location")
        user = getattr(self, "user", None)
        if location is not None and user is not None and not user.is_superuser:
            try:
                # The API's placement rule: only into a grid of the writer's territory.
                services.household_placement_check(point=location, user=user)
            except ValidationError as exc:
                self.add_error("location", exc.message_dict["location"])
        return cleaned


# Shown (and editable) only to those who may see this household's personal data.
PERSONAL_FIELDS = ("head_name", "head_phone", "id_number_masked")
MASKED_FIELDS = ("masked_head_name", "masked_head_phone")


@admin.register(Household)
class HouseholdAdmin(VersionedAdmin, LeafletGeoAdmin):
    form = HouseholdAdminForm
    list_filter = ("elderly_living_alone", "left_behind_children", "low_income", "key_attention")
    search_fields = ("address",)  # never names or phones: a search would reveal them
    readonly_fields = ("grid", "micro_grid", "territory_path", "id_number_masked")
    exclude = ("id_number_hash",)
    list_select_related = ("grid", "micro_grid")
    show_full_result_count = False

    def get_queryset(self, request):
        return selectors.households_for_user(user=request.user)

    def _clear(self, request, obj) -> bool:
        return selectors.may_see_personal_data(user=request.user, household=obj)

    def get_list_display(self, request):
        @admin.display(description=_("head of household"))
        def head_name(obj):
            return obj.head_name if self._clear(request, obj) else privacy.mask_name(obj.head_name)

        @admin.display(description=_("phone"))
        def head_phone(obj):
            return (
                obj.head_phone if self._clear(request, obj) else privacy.mask_phone(obj.head_phone)
            )

        return ("id", "address", head_name, head_phone, "members", "grid", "micro_grid")

    @admin.display(description=_("head of household"))
    def masked_head_name(self, obj):
        return privacy.mask_name(obj.head_name)

    @admin.display(description=_("phone"))
    def masked_head_phone(self, obj):
        return privacy.mask_phone(obj.head_phone)

    def _masked(self, request, obj) -> bool:
        return obj is not None and not self._clear(request, obj)

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f not in MASKED_FIELDS]
        if self._masked(request, obj):
            fields = [f for f in fields if f not in PERSONAL_FIELDS] + list(MASKED_FIELDS)
        return fields

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return readonly + MASKED_FIELDS if self._masked(request, obj) else readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.user = request.user
        return form

    def has_add_permission(self, request):
        return super().has_add_permission(request) and _may_write_households(request)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and _may_write_households(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and _may_write_households(request, obj)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(VersionedAdmin):
    list_display = ("user", "role", "unit_code")
    list_filter = ("role",)
    search_fields = ("user__username", "unit_code")
    autocomplete_fields = ("user",)
    raw_id_fields = ("household",)

    def get_queryset(self, request):
        assignments = super().get_queryset(request).select_related("user")
        if request.user.is_superuser:
            return assignments
        codes = selectors.units_for_user(user=request.user).values("code")
        return assignments.filter(unit_code__in=codes)

    # Who holds which role is granted by superusers only: a commander who could assign roles
    # could give himself an officer's role and read names and phones in clear.
    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(ScheduledChange)
class ScheduledChangeAdmin(admin.ModelAdmin):
    """Read only: a change is scheduled by an import or a new version dated ahead, applied by
    the task worker, and cancelled through the API (services.scheduled_change_cancel)."""

    list_display = ("id", "kind", "codes", "effective_at", "status", "created_by", "finished_at")
    list_filter = ("status", "kind")
    search_fields = ("codes",)
    ordering = ("-effective_at", "-id")
    fields = (
        "kind",
        "codes",
        "effective_at",
        "status",
        "result",
        "problems",
        "created_by",
        "created_at",
        "finished_at",
        "cancelled_by",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.scheduled_changes_for_user(user=request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
