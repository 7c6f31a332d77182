from django.urls import path

from . import api

urlpatterns = [
    path("patrols/due/", api.DueHouseholds.as_view(), name="api-patrol-due"),
    path("patrols/route/", api.TodaysRoute.as_view(), name="api-patrol-route"),
    path("patrols/tracks/", api.TrackUpload.as_view(), name="api-patrol-tracks"),
    path("patrols/visits/", api.CheckIn.as_view(), name="api-patrol-visits"),
    path("patrols/coverage/", api.CoverageView.as_view(), name="api-patrol-coverage"),
    path("incident-categories/", api.Categories.as_view(), name="api-incident-categories"),
    path("incidents/", api.IncidentList.as_view(), name="api-incidents"),
    path("incidents/<uuid:pk>/", api.IncidentDetail.as_view(), name="api-incident"),
    path(
        "incidents/<uuid:pk>/photos/<int:photo>/",
        api.IncidentPhotoFile.as_view(),
        name="api-incident-photo",
    ),
]
