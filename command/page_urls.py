"""The command screen's pages under /command/."""

from django.urls import path

from . import ratings_views, views

urlpatterns: list = [
    path("command/", views.screen_page, name="command"),
    path("command/rankings/", ratings_views.rankings_page, name="command-rankings"),
    path("command/ratings/", ratings_views.ratings_page, name="command-ratings"),
]
