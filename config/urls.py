from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts.admin_login import admin_login
from core.views import API_PATHS, api_not_found

urlpatterns = [
    path("admin/login/", admin_login, name="admin-login"),  # throttled; before the admin's own
    path("admin/", admin.site.urls),
    path("api/", include("core.urls")),
    path("api/", include("accounts.urls")),
    path("api/", include("courses.urls")),
    path("api/", include("videos.urls")),
    path("api/", include("votes.urls")),
    path("api/", include("payments.urls")),
    path("payments/sandbox/", include("payments.sandbox_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    re_path(API_PATHS, api_not_found),  # last: the JSON 404 of every other /api path
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
