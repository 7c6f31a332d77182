"""The command screen's pages under /command/."""

from django.urls import path

from . import views

urlpatterns: list = [
    path("command/", views.screen_page, name="command"),
]
