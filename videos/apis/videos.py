"""Lecture videos: upload and manage (tutors, staff), stream and report watching (learners)."""

import math

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import FileTooLarge, RangeNotSatisfiable
from core.files import PublicFileUrlField
from core.openapi import errors_of
from core.parsers import JSONParser
from core.protected_files import RANGE_HEADER, protected_file_response
from core.serializers import MAX_ID, StrictCharField, StrictPrimaryKeyRelatedField
from core.throttles import VideoUploadThrottle
from courses.errors import NotEntitled
from courses.models import Topic
from videos.errors import InvalidVideo
from videos.models import Video, VideoStatus, WatchEvent, WatchEventType
from videos.permissions import IsTutorOrStaff
from videos.selectors import videos as selectors
from videos.services import videos as services

VIDEO_ID = OpenApiParameter("video_id", int, OpenApiParameter.PATH)


class FiniteFloatField(serializers.FloatField):
    """A stored number rendered as null when it is NaN or infinite (a row written before such
    values were refused): JSON cannot carry them, and one bad row must not fail a whole list."""

    def to_representation(self, value):
        value = super().to_representation(value)
        return value if math.isfinite(value) else None


class RenditionSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="e.g. 720p")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    bandwidth = serializers.IntegerField(help_text="Peak bits per second, as in the playlist.")


class VideoSerializer(serializers.ModelSerializer):
    duration = FiniteFloatField(read_only=True, allow_null=True, help_text="Seconds.")
    status = serializers.ChoiceField(
        choices=VideoStatus.choices,
        read_only=True,
        help_text="`processing` after the upload, then `ready` (learners can watch it) or "
        "`failed` (see `failure_reason`; learners never see it).",
    )
    renditions = RenditionSerializer(many=True, read_only=True)
    poster = PublicFileUrlField()
    thumbnails = PublicFileUrlField(help_text="WebVTT seek thumbnails.")

    class Meta:
        model = Video
        fields = (
            "id", "title", "topic", "content_type", "size", "duration", "status",
            "failure_reason", "renditions", "poster", "thumbnails", "created_at",
        )  # fmt: skip
        read_only_fields = fields


class ProgressSerializer(serializers.Serializer):
    video = serializers.IntegerField(source="video_id")
    position = serializers.FloatField(help_text="Where to resume (s).")
    watched_seconds = serializers.FloatField(help_text="The union of the spans really watched.")
    percent = serializers.SerializerMethodField()
    completed = serializers.SerializerMethodField()

    def get_percent(self, progress) -> float:
        duration = progress.video.duration
        if not (math.isfinite(duration) and duration > 0):  # a row from before the check
            return 0.0
        return round(min(100.0, 100 * progress.watched_seconds / duration), 1)

    def get_completed(self, progress) -> bool:
        return progress.completed_at is not None


class WatchEventSerializer(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id", read_only=True)

    class Meta:
        model = WatchEvent
        fields = ("id", "user", "event_type", "position", "span_from", "span_to", "created_at")
        read_only_fields = fields


class VideoListCreateApi(ListAPIView):
    permission_classes = (IsTutorOrStaff,)
    throttle_classes = (VideoUploadThrottle,)  # uploads only; listing is not counted
    parser_classes = (MultiPartParser, JSONParser)
    serializer_class = VideoSerializer
    queryset = Video.objects.none()  # for the schema; the real one is the caller's

    class UploadSerializer(serializers.Serializer):
        file = serializers.FileField(help_text="MP4, WebM or QuickTime, judged by its content.")
        title = StrictCharField(max_length=200)
        topic = StrictPrimaryKeyRelatedField(
            queryset=Topic.objects.select_related("lecture__course"),
            required=False,
            allow_null=True,
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.video_list(user=self.request.user)

    @extend_schema(operation_id="videos_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="videos_upload",
        request={"multipart/form-data": UploadSerializer},
        responses={201: VideoSerializer, **errors_of(InvalidVideo, FileTooLarge)},
    )
    def post(self, request):
        """Upload a lecture video, judged by its content: at most VIDEO_MAX_UPLOAD_BYTES,
        and THROTTLE_VIDEO_UPLOAD uploads per user. It answers at once with the video
        `processing`; a worker then makes its HLS renditions, poster and thumbnails."""
        serializer = self.UploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        video = services.video_upload(owner=request.user, **serializer.validated_data)
        return Response(VideoSerializer(video).data, status=status.HTTP_201_CREATED)


class VideoDetailApi(APIView):
    permission_classes = (IsTutorOrStaff,)

    class UpdateSerializer(serializers.Serializer):
        title = StrictCharField(max_length=200, required=False)
        topic = StrictPrimaryKeyRelatedField(
            queryset=Topic.objects.select_related("lecture__course"),
            required=False,
            allow_null=True,
        )

    @extend_schema(
        operation_id="videos_retrieve", parameters=[VIDEO_ID], responses={200: VideoSerializer}
    )
    def get(self, request, video_id: int):
        video = selectors.video_get_for_editing(user=request.user, video_id=video_id)
        return Response(VideoSerializer(video).data)

    @extend_schema(
        operation_id="videos_update",
        parameters=[VIDEO_ID],
        request=UpdateSerializer,
        responses={200: VideoSerializer},
    )
    def patch(self, request, video_id: int):
        video = selectors.video_get_for_editing(user=request.user, video_id=video_id)
        serializer = self.UpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        video = services.video_update(
            video=video, data=serializer.validated_data, editor=request.user
        )
        return Response(VideoSerializer(video).data)

    @extend_schema(operation_id="videos_delete", parameters=[VIDEO_ID], responses={204: None})
    def delete(self, request, video_id: int):
        services.video_delete(
            video=selectors.video_get_for_editing(user=request.user, video_id=video_id)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class VideoStreamApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="videos_stream",
        parameters=[
            VIDEO_ID,
            RANGE_HEADER,
        ],
        responses={
            (200, "video/mp4"): bytes,
            (206, "video/mp4"): bytes,
            **errors_of(NotEntitled, RangeNotSatisfiable),
        },
        description="The bytes, checked against the caller's entitlement on every request. "
        "A range outside the file is 416 with `Content-Range: bytes */size`. "
        "Behind nginx the response is empty with `X-Accel-Redirect`, and nginx serves the bytes.",
    )
    def get(self, request, video_id: int):
        video = selectors.video_get_for_watching(user=request.user, video_id=video_id)
        return protected_file_response(
            fieldfile=video.file,
            size=video.size,
            content_type=video.content_type,
            range_header=request.headers.get("Range"),
        )


class VideoEventsApi(ListAPIView):
    permission_classes = (IsAuthenticated,)
    serializer_class = WatchEventSerializer
    queryset = WatchEvent.objects.none()  # for the schema

    class FilterSerializer(serializers.Serializer):
        # ASCII digits within a bigint: `²` passes str.isdigit() but int() refuses it, and int()
        # would take other scripts' digits (Arabic-Indic ones, say) as look-alikes of ours.
        user = serializers.RegexField(
            r"^[0-9]{1,19}$",
            required=False,
            error_messages={"invalid": _("A user id.")},
            help_text="One user's history.",
        )

        def validate_user(self, value: str) -> int:
            user_id = int(value)
            if not 1 <= user_id <= MAX_ID:
                raise serializers.ValidationError(_("A user id."))
            return user_id

    class InputSerializer(serializers.Serializer):
        def get_fields(self):
            # `from` is a Python keyword, so the fields are built here rather than declared.
            return {
                "event_type": serializers.ChoiceField(choices=WatchEventType.choices),
                "position": serializers.FloatField(min_value=0, help_text="Playhead (s)."),
                "from": serializers.FloatField(
                    min_value=0, required=False, source="span_from", help_text="Span start (s)."
                ),
                "to": serializers.FloatField(
                    min_value=0, required=False, source="span_to", help_text="Span end (s)."
                ),
            }

    def get_permissions(self):
        if self.request.method == "GET":
            return [IsAdminUser()]
        return super().get_permissions()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        video = selectors.video_get_for_editing(
            user=self.request.user, video_id=self.kwargs["video_id"]
        )
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.watch_history(video=video, user_id=filters.validated_data.get("user"))

    @extend_schema(
        operation_id="videos_events_list",
        parameters=[VIDEO_ID, OpenApiParameter("user", int, description="One user's history.")],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="videos_events_create",
        parameters=[VIDEO_ID],
        request=InputSerializer,
        responses={201: ProgressSerializer, **errors_of(NotEntitled)},
    )
    def post(self, request, video_id: int):
        video = selectors.video_get_for_watching(user=request.user, video_id=video_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        progress = services.watch_event_record(
            user=request.user, video=video, **serializer.validated_data
        )
        return Response(ProgressSerializer(progress).data, status=status.HTTP_201_CREATED)


class VideoProgressApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="videos_progress",
        parameters=[VIDEO_ID],
        responses={200: ProgressSerializer, **errors_of(NotEntitled)},
    )
    def get(self, request, video_id: int):
        progress = selectors.video_progress(user=request.user, video_id=video_id)
        return Response(ProgressSerializer(progress).data)
