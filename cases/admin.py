"""Admin: the working-day overrides, the table the State Council's holiday schedule is typed
into (superusers only: every deadline of every case rests on it); the service terms of the
catalogue (one catalogue per installation, like the incident catalogue it extends: Django's
model permissions decide); the departments, scoped to the territory like every other admin (a
commander sees the departments of their county and the stations in their township, and edits
those of a county they command). Every form refuses a change made since it was opened
(territory.admin.VersionedAdminForm), and a refused form saves nothing, inlines included."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from territory import selectors as territory_selectors
from territory.admin import VersionedAdmin, VersionedAdminForm
from territory.models import RoleChoices, Unit

from .flow import Step
from .models import (
    Case,
    CaseEvent,
    Department,
    DepartmentArea,
    HotlineCaller,
    ServiceTerms,
    StepLimit,
    WorkingDayOverride,
)
from .selectors import visible_cases
from .working_time import package_is_workday


@admin.register(WorkingDayOverride)
class WorkingDayOverrideAdmin(VersionedAdmin):
    list_display = ("date", "weekday", "is_workday", "package_says", "note")
    list_filter = ("is_workday",)
    date_hierarchy = "date"
    search_fields = ("note",)

    @admin.display(description=_("weekday"))
    def weekday(self, obj):
        return obj.date.strftime("%a")

    @admin.display(description=_("calendar package says"))
    def package_says(self, obj):
        says = package_is_workday(obj.date)
        if says is None:
            return _("year unknown to the package")
        return _("working day") if says else _("day off")

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


class StepLimitFormSet(forms.BaseInlineFormSet):
    """Terms are complete or not saved: one limit for every timed step of the flow."""

    def clean(self):
        super().clean()
        steps = [
            form.cleaned_data.get("step")
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        doubled = sorted({s for s in steps if steps.count(s) > 1})
        if doubled:
            raise forms.ValidationError(
                _("Each step has one limit; given twice: %(steps)s.")
                % {"steps": ", ".join(doubled)}
            )
        missing = [str(s.label) for s in Step if s.value not in steps]
        if missing:
            raise forms.ValidationError(
                _("Every step needs a limit; missing: %(steps)s.") % {"steps": ", ".join(missing)}
            )


class StepLimitInline(admin.TabularInline):
    model = StepLimit
    form = VersionedAdminForm
    formset = StepLimitFormSet
    extra = 0
    min_num = max_num = len(Step)
    can_delete = False


@admin.register(ServiceTerms)
class ServiceTermsAdmin(VersionedAdmin):
    list_display = (
        "item",
        "category",
        "responsible",
        "limits_summary",
        "yellow_share",
        "auto_case",
        "public",
        "active",
    )
    list_filter = ("responsible", "auto_case", "public", "active", "item__parent")
    search_fields = ("item__code", "item__name", "item__name_en")
    list_select_related = ("item", "item__parent")
    inlines = [StepLimitInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("limits")

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if obj is None or obj.pk is None:
            kwargs["initial"] = [{"step": step} for step in Step]
        return kwargs

    @admin.display(description=_("category"), ordering="item__parent__code")
    def category(self, obj):
        return obj.item.parent

    @admin.display(description=_("limits"))
    def limits_summary(self, obj):
        unit = {"hours": "h", "days": "d"}
        return ", ".join(f"{x.step} {x.amount}{unit.get(x.unit, x.unit)}" for x in obj.limits.all())


def _jurisdiction(request):
    return territory_selectors.jurisdiction_for(user=request.user)


def _county_path(code: str) -> str | None:
    return Unit.objects.current().filter(code=code).values_list("path", flat=True).first()


def _may_edit_department(request, obj=None) -> bool:
    j = _jurisdiction(request)
    if obj is None:
        return j.everything or bool(j.territory_edit_paths)
    path = _county_path(obj.county_code)
    return path is not None and j.covers(path, j.territory_edit_paths)


class DepartmentAdminForm(VersionedAdminForm):
    def clean(self):
        cleaned = super().clean()
        user = getattr(self, "user", None)
        code = cleaned.get("county_code")
        if code and user is not None and not user.is_superuser:
            j = territory_selectors.jurisdiction_for(user=user)
            path = _county_path(code)
            if path is None or not j.covers(path, j.territory_edit_paths):
                self.add_error(
                    "county_code", _("%(code)s is not a county you command.") % {"code": code}
                )
        return cleaned


class DepartmentAreaInline(admin.TabularInline):
    model = DepartmentArea
    form = VersionedAdminForm
    extra = 1


@admin.register(Department)
class DepartmentAdmin(VersionedAdmin):
    form = DepartmentAdminForm
    list_display = ("code", "name", "name_en", "county_code", "areas_summary", "active")
    list_filter = ("active",)
    search_fields = ("code", "name", "name_en", "areas__unit_code")
    filter_horizontal = ("items", "members")
    inlines = [DepartmentAreaInline]

    def get_queryset(self, request):
        departments = super().get_queryset(request).prefetch_related("areas")
        if request.user.is_superuser:
            return departments
        codes = territory_selectors.units_for_user(user=request.user).values("code")
        return departments.filter(
            Q(county_code__in=codes) | Q(areas__unit_code__in=codes)
        ).distinct()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.user = request.user
        return form

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "members":
            # Only department staff, and a commander sees no one from outside their territory.
            staff = get_user_model().objects.filter(
                role_assignments__role=RoleChoices.DEPARTMENT_STAFF
            )
            if not request.user.is_superuser:
                codes = territory_selectors.units_for_user(user=request.user).values("code")
                staff = staff.filter(role_assignments__unit_code__in=codes)
            kwargs["queryset"] = staff.distinct().order_by("username")
        elif db_field.name == "items":
            kwargs["queryset"] = db_field.related_model.objects.filter(active=True).order_by("code")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("areas covered"))
    def areas_summary(self, obj):
        return ", ".join(area.unit_code for area in obj.areas.all())

    def has_add_permission(self, request):
        return super().has_add_permission(request) and _may_edit_department(request)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and _may_edit_department(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and _may_edit_department(request, obj)


# --- Cases: read-only here ----------------------------------------------------------------------
# A case changes only through the flow (cases.services.case_act: the row lock, the version, the
# event), never by editing its row; its events are refused by the database on any change. So
# the admin shows cases and their history, scoped like the API (cases.selectors), and changes
# nothing. Hotline caller systems are registered with the command create_hotline_caller (the
# key is printed once); here a superuser can only switch one off.


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ("seq", "action", "from_status", "to_status", "actor", "actor_system", "at", "note")
    readonly_fields = fields
    ordering = ("seq",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("number", "item", "status", "step", "due_at", "grid", "source", "created_at")
    list_filter = ("status", "source", "estimated")
    search_fields = ("number", "hotline_order")
    exclude = ("point",)
    readonly_fields = (
        "number",
        "source",
        "item",
        "description",
        "status",
        "whistle",
        "step",
        "step_started_at",
        "due_at",
        "yellow_at",
        "estimated",
        "grid",
        "micro_grid",
        "territory_path",
        "assignee",
        "department",
        "satisfaction",
        "whistle_rating",
        "incident",
        "hotline_caller",
        "hotline_order",
        "created_at",
    )
    fields = readonly_fields
    inlines = [CaseEventInline]

    def get_queryset(self, request):
        return visible_cases(user=request.user).select_related("item", "grid")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HotlineCaller)
class HotlineCallerAdmin(VersionedAdmin):
    list_display = ("name", "county_code", "key_prefix", "active")
    fields = ("name", "county_code", "key_prefix", "active")
    readonly_fields = ("name", "county_code", "key_prefix")

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
