from django.apps import AppConfig


class VotesConfig(AppConfig):
    name = "votes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.registry import current_user_field_register
        from votes.serializers import VotedPollsField

        current_user_field_register("voted_polls", VotedPollsField)
