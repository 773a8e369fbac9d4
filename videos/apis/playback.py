"""Playback: signed URLs for a viewer (the API), and the signed stream's files where no nginx
checks them (`make run`): behind nginx, /hls/ never reaches Django."""

import posixpath

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import error_body
from core.files import file_public_url, public_url
from core.openapi import errors_of
from core.protected_files import protected_file_response
from core.storage import is_file_missing, protected_storage
from courses.errors import NotEntitled
from videos import playback
from videos.apis.videos import VIDEO_ID
from videos.errors import VideoNotReady
from videos.selectors import videos as selectors

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".mp4": "video/mp4",
}


class PlaybackSerializer(serializers.Serializer):
    hls = serializers.URLField(help_text="The HLS master playlist (hls.js, Safari, Android).")
    mp4 = serializers.URLField(help_text="A progressive MP4 for a plain `<video>` element.")
    poster = serializers.URLField(allow_null=True)
    thumbnails = serializers.URLField(
        allow_null=True, help_text="WebVTT seek thumbnails (cues point into one sprite image)."
    )
    duration = serializers.FloatField(help_text="Seconds.")
    expires_at = serializers.IntegerField(
        help_text="Unix time after which the URLs answer 403: ask for new ones."
    )


class VideoPlaybackApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="videos_playback",
        parameters=[VIDEO_ID],
        responses={200: PlaybackSerializer, **errors_of(NotEntitled, VideoNotReady)},
    )
    def get(self, request, video_id: int):
        """Short-lived URLs of the video's stream, signed for the caller: they need no
        Authorization header (a plain `<video>` can play them) and stop working at `expires_at`.
        Checked against the caller's entitlement each time: none is issued after a refund."""
        signed = selectors.video_playback(user=request.user, video_id=video_id)
        video = signed["video"]
        data = {
            "hls": public_url(signed["hls"], request),
            "mp4": public_url(signed["mp4"], request),
            "poster": file_public_url(video.poster, request),
            "thumbnails": file_public_url(video.thumbnails, request),
            "duration": video.duration,
            "expires_at": signed["expires"],
        }
        response = Response(PlaybackSerializer(data).data)
        response["Cache-Control"] = "private, no-store"
        return response


class _StoredFile:
    """A stored file by name, as core.protected_files reads a model's file."""

    def __init__(self, storage, name: str):
        self.storage, self.name = storage, name

    def open(self, mode: str = "rb"):
        return self.storage.open(self.name, mode)


def signed_stream_file(request: HttpRequest, path: str) -> HttpResponseBase:
    """One file of a signed stream, checked as nginx's secure_link checks it (403 for a bad,
    tampered or expired signature)."""
    checked = playback.signed_path_check(request.path)
    if checked is None:
        return JsonResponse(
            error_body("permission_denied", _("This link is invalid or has expired.")), status=403
        )
    stream_key, file = checked
    storage = protected_storage()
    name = playback.stream_name(stream_key, file)
    content_type = CONTENT_TYPES[posixpath.splitext(file)[1]]
    response: HttpResponseBase
    try:
        if file.endswith(".m3u8"):
            # A playlist (a few KB) is answered here, never redirected to the object store:
            # players resolve its relative URLs against the URL it came from.
            with storage.open(name, "rb") as playlist:
                response = HttpResponse(playlist.read(), content_type=content_type)
            response["Cache-Control"] = "private, no-store"
        else:
            response = protected_file_response(
                fieldfile=_StoredFile(storage, name),
                size=storage.size(name),
                content_type=content_type,
                range_header=request.headers.get("Range"),
            )
    except Exception as error:
        if not is_file_missing(error):
            raise
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    response["Access-Control-Allow-Origin"] = "*"  # the signature is the credential
    response["X-Content-Type-Options"] = "nosniff"
    return response
