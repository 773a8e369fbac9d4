"""Staff tools for uploaded images and videos, and a read-only view of watching."""

from django.contrib import admin

from videos.models import Image, Video, VideoProgress, WatchEvent


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ("file", "owner", "width", "height", "format", "size", "created_at")
    list_filter = ("format",)
    list_select_related = ("owner",)
    search_fields = ("owner__email", "file")
    readonly_fields = ("file", "width", "height", "format", "size")


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = (
        "title", "owner", "topic", "status", "content_type", "duration", "size", "created_at",
    )  # fmt: skip
    list_filter = ("status", "content_type")
    list_select_related = ("owner", "topic")
    search_fields = ("title", "owner__email", "topic__title", "stream_key")
    # What processing wrote is the worker's: staff read it here, and fix a video by uploading it
    # again, never by editing its state.
    readonly_fields = (
        "file", "content_type", "size", "duration", "status", "failure_reason", "stream_key",
        "renditions", "poster", "thumbnails", "queued_at", "heartbeat_at", "processed_by",
        "processed_at",
    )  # fmt: skip
    autocomplete_fields = ("owner", "topic")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(VideoProgress)
class VideoProgressAdmin(ReadOnlyAdmin):
    list_display = (
        "user",
        "video",
        "watched_seconds",
        "watch_budget_seconds",
        "position",
        "started_at",
        "completed_at",
        "updated_at",
    )
    list_select_related = ("user", "video")
    search_fields = ("user__email", "video__title")


@admin.register(WatchEvent)
class WatchEventAdmin(ReadOnlyAdmin):
    list_display = ("user", "video", "event_type", "position", "span_from", "span_to", "created_at")
    list_filter = ("event_type",)
    list_select_related = ("user", "video")
    search_fields = ("user__email", "video__title")
