"""The floor's one view, at a path of the same shape as bench/urls.py's bare view."""

from django.http import JsonResponse
from django.urls import path

from bench.floor import FLOOR_BODY, FLOOR_PATH


def floor(request):
    return JsonResponse(FLOOR_BODY)


urlpatterns = [path(FLOOR_PATH.lstrip("/"), floor, name="floor")]
