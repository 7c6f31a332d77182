"""The command screen's API under /api/command/."""

from django.urls import path

from . import ratings_api

urlpatterns: list = [
    path("command/rankings/", ratings_api.Rankings.as_view(), name="api-command-rankings"),
    path("command/ratings/", ratings_api.QuarterRatings.as_view(), name="api-command-ratings"),
    path(
        "command/ratings/annual/",
        ratings_api.AnnualRatings.as_view(),
        name="api-command-ratings-annual",
    ),
    path(
        "command/report.xlsx",
        ratings_api.WeeklyReportXlsx.as_view(),
        name="api-command-report-xlsx",
    ),
    path(
        "command/report.html", ratings_api.WeeklyReportMap.as_view(), name="api-command-report-html"
    ),
]
