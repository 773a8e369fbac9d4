from django.apps import AppConfig


class VideosConfig(AppConfig):
    name = "videos"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rest_framework import serializers

        from courses.registry import topic_content_field_register
        from videos.selectors.videos import topic_video

        topic_content_field_register(
            "video",
            serializers.DictField(
                read_only=True,
                allow_null=True,
                help_text="Video topics: {id, duration, content_type}; stream it from "
                "/api/videos/{id}/stream/. Null otherwise.",
            ),
            topic_video,
        )
