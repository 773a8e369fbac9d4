from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from courses import catalogue_cache  # noqa: F401  (connects the invalidating receivers)
