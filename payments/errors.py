"""The rules of the shop, one class each: what may be sold and carted, how orders move, billing
addresses, the payment providers, their declines, and refunds."""

from django.utils.translation import gettext_lazy as _
from rest_framework import status

from core.errors import NotFound
from core.exceptions import ApplicationError

# --- products and the cart ----------------------------------------------------------------------


class NotForSale(ApplicationError):
    """Unknown, unpublished, free, or a curriculum without courses; `fields` names each one
    (`course`, `items[i].course`, `lines[i].curriculum`...)."""

    code = "not_for_sale"
    message = _("Some items are not for sale.")


class AlreadyOwned(ApplicationError):
    """A course the buyer can already study, or a curriculum whose every course they can."""

    code = "already_owned"
    status = status.HTTP_409_CONFLICT
    message = _("You already own “%(title)s”.")


class AlreadyInCart(ApplicationError):
    """Also a course a cart curriculum includes, or a curriculum sharing a course with one."""

    code = "already_in_cart"
    status = status.HTTP_409_CONFLICT
    message = _("This item is already in your cart.")


class CartFull(ApplicationError):
    """CART_MAX_ITEMS."""

    code = "cart_full"
    status = status.HTTP_409_CONFLICT
    message = _("Your cart holds at most %(count)d items.")


class OrderLimitExceeded(ApplicationError):
    """ORDER_MAX_TOTAL: an order over it, or a cart item that could never be ordered (its price
    alone, or the cart's total with it, passes the limit)."""

    code = "order_limit_exceeded"
    message = _("An order may total at most %(limit)s KRW; this one is %(total)s KRW.")
    ITEM_ALONE = _("An order may total at most %(limit)s KRW; this item alone costs %(price)s KRW.")
    CART_WITH_ITEM = _(
        "An order may total at most %(limit)s KRW; with this item your cart would total "
        "%(total)s KRW. Order what is in your cart first."
    )


# --- orders -------------------------------------------------------------------------------------


class OrderNotFound(NotFound):
    """No such order of the caller's (also when the order is named in the body, not the path)."""

    code = "not_found"
    status = status.HTTP_404_NOT_FOUND
    message = _("Not found.")


class EmptyOrder(ApplicationError):
    """Nothing to order: no items given (the field error names `items`), or an empty cart."""

    code = "empty_order"
    message = _("Add at least one item.")
    field = "items"
    EMPTY_CART = _("Your cart is empty.")


class DuplicateItem(ApplicationError):
    """`fields` names the second listing: `items[i]` or `cart[i]`."""

    code = "duplicate_item"
    message = _("An item is listed twice, or is part of a curriculum in the same order.")


class OrderInProgress(ApplicationError):
    """A concurrent request of the same user created the pending order first."""

    code = "order_in_progress"
    status = status.HTTP_409_CONFLICT
    message = _("Another order is being created. Try again.")


class OrderExpired(ApplicationError):
    """The order passed its `expires_at` (ORDER_PENDING_TTL after it was placed) and is now
    closed as `expired`; on approval: the payment was started after its order expired."""

    code = "order_expired"
    status = status.HTTP_409_CONFLICT
    message = _("This order has expired: its prices are no longer held. Place a new order.")


class OrderNotCancellable(ApplicationError):
    code = "order_not_cancellable"
    status = status.HTTP_409_CONFLICT
    message = _("Only an order waiting for payment can be cancelled.")


class OrderNotPayable(ApplicationError):
    code = "order_not_payable"
    status = status.HTTP_409_CONFLICT
    message = _("Only an order waiting for payment can be paid.")


class PriceChanged(ApplicationError):
    """A line's price changed since ordering: `fields.total` holds the new total and
    `fields["lines[i].price"]` each new price (KRW, as strings); place a new order."""

    code = "price_changed"
    status = status.HTTP_409_CONFLICT
    message = _(
        "Prices changed since this order was placed: it would now total %(total)s KRW. "
        "Place a new order to pay the current prices."
    )


class InvalidOrderState(ApplicationError):
    """A move the order state machine (models.ORDER_TRANSITIONS) does not allow."""

    code = "invalid_order_state"
    status = status.HTTP_409_CONFLICT
    message = _("This order is %(status)s and cannot become %(to)s.")


class OrderChanged(ApplicationError):
    """Another request moved the order first (its compare-and-set found another status)."""

    code = "order_changed"
    status = status.HTTP_409_CONFLICT
    message = _("This order was changed by another request. Reload it and try again.")


ORDER_TRANSITION_ERRORS = (InvalidOrderState, OrderChanged)


# --- billing addresses --------------------------------------------------------------------------


class DefaultRequired(ApplicationError):
    """`is_default: false` on the default address: make another one the default instead."""

    code = "default_required"
    message = _("Make another address the default instead.")

    def __init__(self):
        super().__init__(fields={"is_default": [_("One address must stay the default.")]})


# --- providers and payments ---------------------------------------------------------------------


class ProviderNotAvailable(ApplicationError):
    """Settings do not enable the provider (the sandbox never is in production); the field error
    of `provider` lists the ones they do."""

    code = "provider_not_available"
    message = _("This payment provider is not available.")

    def __init__(self, *, available: list[str]):
        choices = _("Choose one of: %s.") % ", ".join(available)
        super().__init__(fields={"provider": [choices]})


class PaymentProviderUnavailable(ApplicationError):
    """No answer in time (or an unreadable one): nothing changed here; retry."""

    code = "payment_provider_unavailable"
    status = status.HTTP_502_BAD_GATEWAY
    message = _(
        "The payment provider did not answer in time. Try again: you will not be charged twice."
    )


class PaymentNotPending(ApplicationError):
    """Already cancelled or failed, or its order closed."""

    code = "payment_not_pending"
    status = status.HTTP_409_CONFLICT
    message = _("This payment is no longer waiting for approval.")


class PaymentChanged(ApplicationError):
    """Another request settled the payment first (impossible while its row is locked: refused
    rather than granting twice)."""

    code = "payment_changed"
    status = status.HTTP_409_CONFLICT
    message = _("This payment was changed by another request.")


# --- declines: what the provider's "no" becomes (services.declines picks the class) -------------


class PaymentDeclined(ApplicationError):
    """The provider refused and the transaction is over: the payment failed (or never started);
    the order takes a new payment."""

    code = "payment_declined"
    status = status.HTTP_402_PAYMENT_REQUIRED
    message = _("The payment provider refused this payment: %(reason)s")


class ApprovalRefused(ApplicationError):
    """The provider refused this approval (e.g. a wrong `pg_token`) but may still approve the
    transaction: the payment stays pending; finish at the provider and approve again (the
    APPROVAL_ATTEMPTS-th refusal fails it as `payment_declined`)."""

    code = "approval_refused"
    status = status.HTTP_402_PAYMENT_REQUIRED
    message = _(
        "The payment provider did not approve this payment: %(reason)s It is still "
        "waiting: finish it at the provider, then approve again."
    )


class AmountMismatch(ApplicationError):
    """The provider charged another amount than the order's: the payment failed, nothing was
    granted, and the charge was reversed (or, if that failed, is left to staff)."""

    code = "amount_mismatch"
    status = status.HTTP_409_CONFLICT
    message = _("The amount charged did not match the order. The payment failed and was reversed.")
    NOT_REVERSED = _(
        "The amount charged did not match the order. The payment failed; the charge could "
        "not be reversed automatically and will be refunded by our staff."
    )


# --- refunds ------------------------------------------------------------------------------------


class AlreadyRefunded(ApplicationError):
    code = "already_refunded"
    status = status.HTTP_409_CONFLICT
    message = _("This payment was already refunded.")


class PaymentNotRefundable(ApplicationError):
    code = "payment_not_refundable"
    status = status.HTTP_409_CONFLICT
    message = _("Only a completed payment can be refunded.")


class RefundWindowPassed(ApplicationError):
    """The owner may refund within REFUND_WINDOW_DAYS of approval; staff at any time."""

    code = "refund_window_passed"
    status = status.HTTP_409_CONFLICT
    message = _("Refunds are possible for %(days)d days after payment.")


class RefundDeclined(ApplicationError):
    code = "refund_declined"
    status = status.HTTP_409_CONFLICT
    message = _("The payment provider refused the refund: %(reason)s")
