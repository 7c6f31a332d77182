from django.urls import path

from . import api

urlpatterns = [
    path("cases/", api.CaseList.as_view(), name="api-cases"),
    path("cases/<int:pk>/", api.CaseDetail.as_view(), name="api-case"),
    path("cases/<int:pk>/act/", api.CaseAct.as_view(), name="api-case-act"),
    path("cases/<int:pk>/suggestions/", api.CaseSuggestions.as_view(), name="api-case-suggestions"),
    path("hotline/cases/", api.HotlineCaseIntake.as_view(), name="api-hotline-cases"),
    path("cases/indicators/", api.CaseIndicators.as_view(), name="api-case-indicators"),
    path(
        "cases/indicators.xlsx", api.CaseIndicatorsXlsx.as_view(), name="api-case-indicators-xlsx"
    ),
    path("cases/indicators.csv", api.CaseIndicatorsCsv.as_view(), name="api-case-indicators-csv"),
]
