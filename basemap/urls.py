from django.urls import re_path

from . import views

# Digits only and bounded in length: any other z/x/y is a 404 from the resolver, never a 500.
urlpatterns = [
    re_path(r"^tiles/(?P<z>\d{1,2})/(?P<x>\d{1,7})/(?P<y>\d{1,7})\.mvt$", views.tile, name="tile"),
]
