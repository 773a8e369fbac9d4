"""The project's URLs plus `bench/bare/`: a plain Django view that touches neither auth nor the
database, behind our whole middleware stack; against the true floor (bench/floor/, a separate
minimal project) it shows what our own stack costs."""

from django.http import JsonResponse
from django.urls import path

from config import urls as project_urls

BARE_BODY = {"status": "ok"}


def bare(request):
    return JsonResponse(BARE_BODY)


urlpatterns = [path("bench/bare/", bare, name="bench-bare"), *project_urls.urlpatterns]

# Django reads the error handlers from the root URLconf only.
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
