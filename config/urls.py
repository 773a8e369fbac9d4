from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, re_path

from accounts.admin_login import admin_login
from config.api_docs import RedocApi, SchemaApi, SwaggerApi
from core.views import API_PATHS, api_not_found
from videos.apis.playback import signed_stream_file

urlpatterns = [
    path("admin/login/", admin_login, name="admin-login"),  # throttled; before the admin's own
    path("admin/", admin.site.urls),
    # The apps' paths start with distinct words (users/, polls/, courses/...), so their order
    # changes no answer; Django tries them in turn, so the busiest come first.
    path("api/", include("accounts.urls")),
    path("api/", include("votes.urls")),
    path("api/", include("courses.urls")),
    path("api/", include("videos.urls")),
    path("api/", include("payments.urls")),
    path("api/", include("chat.urls")),
    path("api/", include("core.urls")),
    path("payments/sandbox/", include("payments.sandbox_urls")),
    # Signed video streams (videos.playback); behind nginx they never reach Django.
    path("hls/<path:path>", signed_stream_file, name="signed-stream-file"),
    path("api/schema/", SchemaApi.as_view(), name="schema"),
    path("api/docs/", SwaggerApi.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocApi.as_view(url_name="schema"), name="redoc"),
    re_path(API_PATHS, api_not_found),  # last: the JSON 404 of every other /api path
]
# `make run` (DEBUG) serves public media itself (pictures, posters, thumbnails); elsewhere this
# adds nothing, and nginx or the object store serves them.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
