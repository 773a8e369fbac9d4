from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the OpenAPI auth extension and the cache-invalidating signal receivers.
        from accounts.auth import cache, schema  # noqa: F401
        from accounts.auth.purge import auth_sessions_purge
        from core.registry import purger_register

        purger_register("auth sessions", auth_sessions_purge)
