"""What videos adds to other apps' responses (registered in VideosConfig.ready), typed so the
schema describes each field instead of a free-form object."""

from rest_framework import serializers


class TopicVideoSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Stream it from /api/videos/{id}/stream/.")
    duration = serializers.FloatField(
        allow_null=True, help_text="Seconds; null if the file's duration was unreadable."
    )
    content_type = serializers.CharField(help_text="The container's media type, e.g. video/mp4.")


class AvatarSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The image's id (GET /api/images/{id}/).")
    url = serializers.URLField(help_text="Absolute URL of the image file.")
