from django.urls import path

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("api/", views.ApiRoot.as_view(), name="api-root"),
    path("favicon.ico", views.favicon, name="favicon"),
]
