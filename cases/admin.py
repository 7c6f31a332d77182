"""Admin: the working-day overrides, the table the State Council's holiday schedule is typed
into. Superusers only: every deadline of every case rests on it."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from territory.admin import VersionedAdmin

from .models import WorkingDayOverride
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
