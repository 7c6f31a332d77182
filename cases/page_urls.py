from django.urls import path

from .views import indicators

urlpatterns = [
    path("cases/indicators/", indicators.indicators_page, name="case-indicators"),
]
