from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User


@admin.register(User)
class WanggeUserAdmin(UserAdmin):
    """Logins are managed by superusers only. Users have no place in the territory of their
    own (their role assignments do, often several), so a staff commander cannot be scoped to
    "his" users; and one who could edit users could make himself a superuser."""

    fieldsets = UserAdmin.fieldsets + ((_("Work"), {"fields": ("work_phone", "language")}),)

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
