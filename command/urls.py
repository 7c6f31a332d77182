"""The command screen's API under /api/command/."""

from django.urls import path

from . import api

urlpatterns: list = [
    path("command/summary/", api.Summary.as_view(), name="api-command-summary"),
    path("command/heat/", api.Heat.as_view(), name="api-command-heat"),
    path("command/choropleth/", api.Choropleth.as_view(), name="api-command-choropleth"),
    path("command/hotspots/", api.HotSpots.as_view(), name="api-command-hotspots"),
    path("command/cards/", api.Cards.as_view(), name="api-command-cards"),
    path("command/workers/", api.Workers.as_view(), name="api-command-workers"),
]
