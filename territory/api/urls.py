from django.urls import path

from . import views

urlpatterns = [
    path("units/", views.UnitList.as_view(), name="api-units"),
    path("units/export/", views.UnitExport.as_view(), name="api-units-export"),
    path("units/import/", views.UnitImport.as_view(), name="api-units-import"),
    path("units/<str:code>/", views.UnitDetail.as_view(), name="api-unit"),
    path("units/<str:code>/topology/", views.UnitTopology.as_view(), name="api-unit-topology"),
    path("grids/", views.GridList.as_view(), name="api-grids"),
    path("scheduled-changes/", views.ScheduledChangeList.as_view(), name="api-scheduled-changes"),
    path(
        "scheduled-changes/<int:pk>/",
        views.ScheduledChangeDetail.as_view(),
        name="api-scheduled-change",
    ),
    path(
        "scheduled-changes/<int:pk>/cancel/",
        views.ScheduledChangeCancel.as_view(),
        name="api-scheduled-change-cancel",
    ),
    path("households/", views.HouseholdList.as_view(), name="api-households"),
    path("households/<int:pk>/", views.HouseholdDetail.as_view(), name="api-household"),
]
