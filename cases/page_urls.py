"""The case flow's pages (the API is cases/urls.py)."""

from django.urls import path

from .views import resident

urlpatterns = [
    path("me/requests/", resident.my_requests, name="my-requests"),
    path("me/requests/new/", resident.request_new, name="request-new"),
]
