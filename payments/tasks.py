"""Celery tasks of payments: thin wrappers around services, idempotent."""

from celery import shared_task

from payments.services import reconcile
from payments.services.orders import orders_expire as orders_expire_service


@shared_task
def orders_expire() -> int:
    """Pending orders past their ORDER_PENDING_TTL expire (their pending payments are cancelled);
    an order already expired or paid is left alone."""
    return orders_expire_service()


@shared_task
def payments_reconcile() -> int:
    """Pending payments the provider approved while the answer was lost are settled, once."""
    return reconcile.payments_reconcile()
