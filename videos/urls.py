from django.urls import path

from videos.apis import images, playback, videos

urlpatterns = [
    path("images/", images.ImageListCreateApi.as_view(), name="images"),
    path("images/<int:image_id>/", images.ImageDetailApi.as_view(), name="image-detail"),
    path("videos/", videos.VideoListCreateApi.as_view(), name="videos"),
    path("videos/<int:video_id>/", videos.VideoDetailApi.as_view(), name="video-detail"),
    path("videos/<int:video_id>/stream/", videos.VideoStreamApi.as_view(), name="video-stream"),
    path(
        "videos/<int:video_id>/playback/",
        playback.VideoPlaybackApi.as_view(),
        name="video-playback",
    ),
    path("videos/<int:video_id>/events/", videos.VideoEventsApi.as_view(), name="video-events"),
    path(
        "videos/<int:video_id>/progress/", videos.VideoProgressApi.as_view(), name="video-progress"
    ),
]
