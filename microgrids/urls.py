from django.urls import path

from . import api

urlpatterns = [
    path(
        "units/<str:code>/merge-small-grids/",
        api.MergeSmallGrids.as_view(),
        name="api-merge-small-grids",
    ),
    path(
        "grids/<str:code>/microgrids/preview/",
        api.MicroGridPreview.as_view(),
        name="api-microgrids-preview",
    ),
    path(
        "grids/<str:code>/microgrids/adjust/",
        api.MicroGridAdjust.as_view(),
        name="api-microgrids-adjust",
    ),
    path(
        "grids/<str:code>/microgrids/commit/",
        api.MicroGridCommit.as_view(),
        name="api-microgrids-commit",
    ),
    path("microgrid-divisions/", api.DivisionList.as_view(), name="api-divisions"),
    path(
        "microgrid-divisions/<int:pk>/revert/",
        api.DivisionRevert.as_view(),
        name="api-division-revert",
    ),
    path("microgrid-jobs/", api.JobList.as_view(), name="api-microgrid-jobs"),
    path("microgrid-jobs/<int:pk>/", api.JobDetail.as_view(), name="api-microgrid-job"),
]
