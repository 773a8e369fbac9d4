from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the OpenAPI auth extension and the cache-invalidating signal receivers.
        from accounts import auth_cache, purge, schema  # noqa: F401
