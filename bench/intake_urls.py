"""The project's URLs plus /bench/minimal/: what a careful peer would ship as the smallest
incident endpoint (DRF, session auth, one raw PostGIS INSERT, nothing else)."""

import uuid

from django.db import connection
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as project_urls


class MinimalIncident(APIView):
    def post(self, request):
        data = request.data
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_minimal_incident (id, reporter_id, item, geom, created_at) "
                "VALUES (%s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), now())",
                [
                    uuid.UUID(str(data["id"])),
                    request.user.pk,
                    data["item"],
                    float(data["lon"]),
                    float(data["lat"]),
                ],
            )
        return Response({"id": str(data["id"])}, status=201)


urlpatterns = [*project_urls, path("bench/minimal/", MinimalIncident.as_view())]
