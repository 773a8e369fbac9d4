"""The project's URLs plus the video routes (temporary until videos.urls is wired in)."""

from django.urls import include, path

from config import urls as project_urls
from videos.apis import videos

urlpatterns = [
    path(
        "api/",
        include(
            [
                path("videos/", videos.VideoListCreateApi.as_view()),
                path("videos/<int:video_id>/", videos.VideoDetailApi.as_view()),
                path("videos/<int:video_id>/stream/", videos.VideoStreamApi.as_view()),
                path("videos/<int:video_id>/events/", videos.VideoEventsApi.as_view()),
                path("videos/<int:video_id>/progress/", videos.VideoProgressApi.as_view()),
            ]
        ),
    ),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
