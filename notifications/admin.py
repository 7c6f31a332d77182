"""The outbox in the admin: read only, addresses masked for everyone (the list is for seeing
what was sent and why something was not, never for reading phone numbers), and one action:
re-queue dead messages, for staff who hold that permission. Scoped: staff other than superusers
see the messages sent to them and those about the cases they may see."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications import selectors, services
from notifications.models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "channel",
        "address_masked",
        "recipient",
        "topic",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    )
    list_filter = ("status", "channel", "language")
    search_fields = ("topic", "key")
    ordering = ("-created_at", "-id")
    list_select_related = ("recipient",)
    fields = (
        "key",
        "topic",
        "channel",
        "address_masked",
        "recipient",
        "language",
        "subject",
        "body",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "sent_at",
        "created_at",
    )
    readonly_fields = fields
    actions = ["requeue"]

    @admin.display(description=_("address"))
    def address_masked(self, obj):
        return obj.masked_address

    @admin.action(description=_("Re-queue the selected dead messages"), permissions=["requeue"])
    def requeue(self, request, queryset):
        count = services.messages_requeue(messages=queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d dead message re-queued.", "%(count)d dead messages re-queued.", count
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def get_queryset(self, request):
        # Scoped like the API: staff see the messages about what they may see, not the county's.
        return selectors.messages_for_user(user=request.user).select_related("recipient")

    def has_requeue_permission(self, request):
        return request.user.has_perm("notifications.requeue_message")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
