from django.apps import AppConfig


class VideosConfig(AppConfig):
    name = "videos"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rest_framework import serializers

        from accounts.registry import current_user_field_register, profile_input_register
        from core.registry import purger_register
        from courses.registry import topic_content_field_register
        from videos.avatars import avatar_of, avatar_set
        from videos.purge import watch_events_purge
        from videos.selectors.videos import topic_video
        from videos.serializers import AvatarSerializer, TopicVideoSerializer

        purger_register("watch events", watch_events_purge)

        topic_content_field_register(
            "video",
            TopicVideoSerializer(
                read_only=True, allow_null=True, help_text="Video topics' video; null otherwise."
            ),
            topic_video,
        )
        current_user_field_register(
            "avatar",
            AvatarSerializer(read_only=True, allow_null=True, help_text="The avatar, or null."),
            avatar_of,
        )
        profile_input_register(
            "avatar",
            serializers.IntegerField(
                required=False,
                allow_null=True,
                min_value=1,
                help_text="The id of one of your images (POST /api/images/), or null to remove.",
            ),
            avatar_set,
        )
