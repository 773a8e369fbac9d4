"""The receipt mail a buyer gets once a payment is settled, queued in the settling transaction
(core.mail's outbox): sent after the commit by a worker, never for a settlement rolled back."""

from django.utils import timezone
from django.utils.translation import gettext as _

from core.mail import mail_queue
from payments.models import Order, Payment


def receipt_mail_queue(*, order: Order, payment: Payment, lines: list, to: str) -> None:
    """Inside the settling transaction, with the order's lines as they were bought, to the
    buyer's address."""
    paid_at = timezone.localtime(payment.approved_at or timezone.now())
    items = "\n".join(f"- {line.title}: {line.price:,} KRW" for line in lines)
    body = "\n".join([
        _("Thank you for your purchase."),
        "",
        _("Receipt %(number)s, order %(order)s, paid %(when)s")
        % {"number": payment.receipt_number, "order": order.reference,
           "when": f"{paid_at:%Y-%m-%d %H:%M %Z}"},
        "",
        items,
        "",
        _("Total: %(total)s KRW") % {"total": f"{payment.amount:,}"},
    ])  # fmt: skip
    mail_queue(
        subject=_("Your receipt %(number)s") % {"number": payment.receipt_number},
        body=body,
        to=[to],
    )
