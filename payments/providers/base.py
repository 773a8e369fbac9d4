"""What every payment provider does: check out, approve, look up, cancel."""

import abc
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class CheckoutRequest:
    payment_id: int
    order_id: int
    user_id: int
    item_name: str
    quantity: int
    amount: int
    approval_url: str
    cancel_url: str
    fail_url: str


@dataclass(frozen=True)
class Checkout:
    transaction_id: str
    redirect_url: str
    redirect_urls: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Approval:
    """A charge the provider has made: the amount is the provider's word, not the client's."""

    transaction_id: str
    approval_id: str
    amount: int
    method: str
    approved_at: datetime
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Lookup:
    """Where the provider's side of a transaction stands."""

    approval: Approval | None = None  # the charge made, if any
    # Nothing charged yet and the transaction still open: an approval (with the right pg_token,
    # after the buyer finished at the provider) may still succeed.
    approvable: bool = False


@dataclass(frozen=True)
class Cancellation:
    transaction_id: str
    amount: int
    cancelled_at: datetime
    raw: dict = field(default_factory=dict)


class ProviderError(Exception):
    def __init__(self, code: str, message: str, raw: dict | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.raw = raw or {}


class ProviderDeclined(ProviderError):
    """The provider answered and said no: retrying the same call will not help."""


class ProviderUnavailable(ProviderError):
    """Timeout, connection failure or a 5xx: the outcome is unknown, so nothing is changed and
    the call may be retried."""


class PaymentProvider(abc.ABC):
    name: str

    @abc.abstractmethod
    def checkout(self, request: CheckoutRequest) -> Checkout:
        """Register the payment with the provider; the buyer is sent to `redirect_url`."""

    @abc.abstractmethod
    def approve(
        self, *, transaction_id: str, order_id: int, user_id: int, pg_token: str
    ) -> Approval:
        """Ask the provider to charge what the buyer authorised."""

    @abc.abstractmethod
    def lookup(self, *, transaction_id: str) -> Lookup:
        """The charge already made for this transaction, if any (to settle a retry after an
        approve whose answer was lost), or whether it may still be approved (after a refused
        approve: a wrong pg_token must not end a payment the buyer can still finish)."""

    @abc.abstractmethod
    def cancel(self, *, transaction_id: str, amount: int) -> Cancellation:
        """Give `amount` back to the buyer."""
