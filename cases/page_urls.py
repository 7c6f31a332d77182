"""The case flow's pages (each part's view module under cases/views/)."""

from django.urls import path

from .views import desk, public

urlpatterns = [
    path("cases/", desk.desk_page, name="case-desk"),
    path("cases/<int:pk>/", desk.case_page, name="case-page"),
    path("public/", public.public_index, name="public-index"),
    path("public/<str:code>/", public.public_cases_page, name="public-cases"),
    path("public/<str:code>/feed.json", public.public_cases_feed, name="public-cases-feed"),
    path("public/<str:code>/grids.geojson", public.public_cases_grids, name="public-cases-grids"),
]
