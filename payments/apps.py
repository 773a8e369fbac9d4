from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.registry import purger_register
        from payments.services.orders import orders_expire

        # Closes (as `expired`, with an order event) rather than deletes: orders are records.
        purger_register("expired pending orders", orders_expire)
