"""The command screen's API under /api/command/."""

from django.urls import path

from . import api, ratings_api

urlpatterns: list = [
    path("command/summary/", api.Summary.as_view(), name="api-command-summary"),
    path("command/heat/", api.Heat.as_view(), name="api-command-heat"),
    path("command/choropleth/", api.Choropleth.as_view(), name="api-command-choropleth"),
    path("command/hotspots/", api.HotSpots.as_view(), name="api-command-hotspots"),
    path("command/cards/", api.Cards.as_view(), name="api-command-cards"),
    path("command/workers/", api.Workers.as_view(), name="api-command-workers"),
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
