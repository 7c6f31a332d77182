from django.urls import path

from . import microgrids, views

urlpatterns = [
    path("units/", views.UnitList.as_view(), name="api-units"),
    path("units/export/", views.UnitExport.as_view(), name="api-units-export"),
    path("units/import/", views.UnitImport.as_view(), name="api-units-import"),
    path("units/<str:code>/", views.UnitDetail.as_view(), name="api-unit"),
    path("units/<str:code>/topology/", views.UnitTopology.as_view(), name="api-unit-topology"),
    path(
        "units/<str:code>/merge-small-grids/",
        microgrids.MergeSmallGrids.as_view(),
        name="api-merge-small-grids",
    ),
    path("grids/", views.GridList.as_view(), name="api-grids"),
    path(
        "grids/<str:code>/microgrids/preview/",
        microgrids.MicroGridPreview.as_view(),
        name="api-microgrids-preview",
    ),
    path(
        "grids/<str:code>/microgrids/adjust/",
        microgrids.MicroGridAdjust.as_view(),
        name="api-microgrids-adjust",
    ),
    path(
        "grids/<str:code>/microgrids/commit/",
        microgrids.MicroGridCommit.as_view(),
        name="api-microgrids-commit",
    ),
    path("microgrid-divisions/", microgrids.DivisionList.as_view(), name="api-divisions"),
    path(
        "microgrid-divisions/<int:pk>/revert/",
        microgrids.DivisionRevert.as_view(),
        name="api-division-revert",
    ),
    path("microgrid-jobs/", microgrids.JobList.as_view(), name="api-microgrid-jobs"),
    path("microgrid-jobs/<int:pk>/", microgrids.JobDetail.as_view(), name="api-microgrid-job"),
    path("households/", views.HouseholdList.as_view(), name="api-households"),
    path("households/<int:pk>/", views.HouseholdDetail.as_view(), name="api-household"),
]
