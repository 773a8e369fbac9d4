"""Payment providers behind one interface; `provider_get` hands out the ones settings enable."""

from django.conf import settings

from payments.errors import ProviderNotAvailable
from payments.providers.base import (
    Approval,
    Cancellation,
    Checkout,
    CheckoutRequest,
    Lookup,
    PaymentProvider,
    ProviderDeclined,
    ProviderError,
    ProviderUnavailable,
)
from payments.providers.kakaopay import KakaoPayProvider
from payments.providers.sandbox import SandboxProvider

PROVIDER_CLASSES: dict[str, type[PaymentProvider]] = {
    "kakaopay": KakaoPayProvider,
    "sandbox": SandboxProvider,
}

__all__ = [
    "Approval",
    "Cancellation",
    "Checkout",
    "CheckoutRequest",
    "Lookup",
    "PaymentProvider",
    "ProviderDeclined",
    "ProviderError",
    "ProviderUnavailable",
    "enabled_providers",
    "provider_get",
]


def enabled_providers() -> list[str]:
    return [name for name in settings.PAYMENT_PROVIDERS if name in PROVIDER_CLASSES]


def provider_get(name: str) -> PaymentProvider:
    """The provider called `name`, if settings enable it (the sandbox is never enabled in
    production)."""
    if name not in enabled_providers():
        raise ProviderNotAvailable(available=enabled_providers())
    return PROVIDER_CLASSES[name]()
