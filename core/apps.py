from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.idempotency import idempotency_records_purge
        from core.mail import outgoing_mails_purge
        from core.registry import purger_register

        purger_register("idempotency records", idempotency_records_purge)
        purger_register("outgoing mail", outgoing_mails_purge)
