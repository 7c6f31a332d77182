"""Admin: the services' attributes (one catalogue per installation, Django's model permissions
decide, like the service terms), the clients and their keys (a key is shown once, when issued
or re-issued), and the posted requests (read-only)."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from territory.admin import VersionedAdmin, VersionedAdminForm

from . import services
from .models import Open311Client, PostedRequest, ServiceAttribute, values_problem


class ServiceAttributeForm(VersionedAdminForm):
    class Meta:
        model = ServiceAttribute
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        problem = values_problem(cleaned.get("datatype"), cleaned.get("values"))
        if problem:
            raise forms.ValidationError({"values": problem})
        return cleaned


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(VersionedAdmin):
    form = ServiceAttributeForm
    list_display = ("item", "code", "datatype", "required", "order", "description")
    list_filter = ("datatype", "required")
    search_fields = ("item__code", "item__name", "code", "description")


@admin.register(Open311Client)
class Open311ClientAdmin(VersionedAdmin):
    list_display = ("name", "county_code", "key_prefix", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("name", "county_code")
    readonly_fields = ("key_prefix", "created_at")
    actions = ["issue_new_key"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        client, key = services.client_create(
            name=obj.name, county_code=obj.county_code, active=obj.active
        )
        # The admin goes on with `obj` (its log entry, the redirect): make it that row.
        obj.pk = client.pk
        obj._state.adding = False
        obj.refresh_from_db()
        self.message_user(
            request,
            _("The api_key of %(name)s, shown only now: %(key)s") % {"name": obj.name, "key": key},
            messages.WARNING,
        )

    @admin.action(description=_("Issue a new api_key (the old one stops working)"))
    def issue_new_key(self, request, queryset):
        for client in queryset:
            key = services.client_rekey(client=client)
            self.message_user(
                request,
                _("The new api_key of %(name)s, shown only now: %(key)s")
                % {"name": client.name, "key": key},
                messages.WARNING,
            )


@admin.register(PostedRequest)
class PostedRequestAdmin(admin.ModelAdmin):
    list_display = ("service_request_id", "client", "county_code", "created_at")
    search_fields = ("service_request_id", "token")
    readonly_fields = ("token", "client", "county_code", "service_request_id", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
