from django.urls import path

from .views import desk

urlpatterns = [
    path("cases/", desk.desk_page, name="case-desk"),
    path("cases/<int:pk>/", desk.case_page, name="case-page"),
]
