"""The case flow's pages (each part's view module under cases/views/; the API is cases/urls.py)."""

from django.urls import path

from .views import desk, indicators, public, resident

urlpatterns = [
    path("cases/", desk.desk_page, name="case-desk"),
    path("cases/<int:pk>/", desk.case_page, name="case-page"),
    path("cases/indicators/", indicators.indicators_page, name="case-indicators"),
    path("me/requests/", resident.my_requests, name="my-requests"),
    path("me/requests/new/", resident.request_new, name="request-new"),
    path("public/", public.public_index, name="public-index"),
    path("public/<str:code>/", public.public_cases_page, name="public-cases"),
    path("public/<str:code>/feed.json", public.public_cases_feed, name="public-cases-feed"),
    path("public/<str:code>/grids.geojson", public.public_cases_grids, name="public-cases-grids"),
]
