"""The project's URLs plus `bench/bare/` (plain Django view) and `bench/drf/` (bare DRF view).

Neither touches auth or the database; profile_me.py uses `bench/drf/` to split DRF's own cost.
"""

from django.http import JsonResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config import urls as project_urls

BARE_BODY = {"status": "ok"}


def bare(request):
    return JsonResponse(BARE_BODY)


class DrfBareApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get(self, request):
        return Response(BARE_BODY)


urlpatterns = [
    path("bench/bare/", bare, name="bench-bare"),
    path("bench/drf/", DrfBareApi.as_view(), name="bench-drf"),
    *project_urls.urlpatterns,
]

# Django reads the error handlers from the root URLconf only.
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
