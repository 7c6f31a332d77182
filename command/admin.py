"""The frozen star ratings in the admin: to read, never to edit (a frozen rating is final)."""

from django.contrib import admin

from .models import StarRating


@admin.register(StarRating)
class StarRatingAdmin(admin.ModelAdmin):
    list_display = ("kind", "subject", "subject_name", "year", "quarter", "stars", "score")
    list_filter = ("kind", "year", "quarter", "stars", "formula_version")
    search_fields = ("subject", "subject_name")
    readonly_fields = [f.name for f in StarRating._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
