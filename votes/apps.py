from django.apps import AppConfig


class VotesConfig(AppConfig):
    name = "votes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rest_framework import serializers

        from accounts.registry import current_user_field_register
        from votes import results_cache  # noqa: F401  (connects the invalidating receivers)
        from votes.selectors import voted_poll_ids

        current_user_field_register(
            "voted_polls",
            serializers.ListField(
                child=serializers.IntegerField(),
                read_only=True,
                help_text="Ids of the polls this user has voted in.",
            ),
            lambda user: voted_poll_ids(user=user),
        )
