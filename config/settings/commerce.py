"""Cart, orders and payments: providers, limits and windows."""

from config.settings.environment import FRONTEND_URL, env

# Providers a buyer may choose. "sandbox" imitates a gateway locally (production refuses it);
# "kakaopay" needs KAKAOPAY_SECRET_KEY (Secret key (dev) with the test CID TC0ONETIME for tests).
PAYMENT_PROVIDERS = env.list("PAYMENT_PROVIDERS", default=["sandbox"])
KAKAOPAY_SECRET_KEY = env("KAKAOPAY_SECRET_KEY", default="")
KAKAOPAY_CID = env("KAKAOPAY_CID", default="TC0ONETIME")
KAKAOPAY_API_URL = env("KAKAOPAY_API_URL", default="https://open-api.kakaopay.com")
# Seconds to wait for a provider's answer; then the payment stays pending and may be retried.
PAYMENT_PROVIDER_TIMEOUT = env.float("PAYMENT_PROVIDER_TIMEOUT", default=10.0)
# The provider sends the buyer's browser back to <base>/<payment id>/approve|cancel|fail/
# (?pg_token=...): frontend routes, which call POST /api/payments/<id>/approve/ (or cancel/, fail/)
# with the buyer's bearer token. A browser never holds that token, so not an /api/ URL.
PAYMENT_CALLBACK_BASE_URL = env("PAYMENT_CALLBACK_BASE_URL", default=FRONTEND_URL + "/payments")
# Where the sandbox's checkout page is served (this server).
PAYMENT_SANDBOX_BASE_URL = env("PAYMENT_SANDBOX_BASE_URL", default="http://127.0.0.1:8000")
# Largest order total in KRW (0 = no limit); the cart refuses what would pass it.
ORDER_MAX_TOTAL = env.int("ORDER_MAX_TOTAL", default=50_000)
# Seconds a pending order stays payable (its prices are that old); a task closes it every minute
# (and `manage.py purge_expired`). A payment started before then may still be approved within
# PAYMENT_APPROVAL_WINDOW seconds of its start (KakaoPay holds a payment ready for 15 minutes).
ORDER_PENDING_TTL = env.int("ORDER_PENDING_TTL", default=30 * 60)
PAYMENT_APPROVAL_WINDOW = env.int("PAYMENT_APPROVAL_WINDOW", default=15 * 60)
# A payment still pending this many seconds after it started is looked up at its provider every
# minute (payments.tasks.payments_reconcile): one approved there whose answer was lost is settled.
PAYMENT_RECONCILE_AFTER = env.int("PAYMENT_RECONCILE_AFTER", default=120)
CART_MAX_ITEMS = env.int("CART_MAX_ITEMS", default=50)
# A purchase gives this many days of access; the buyer may refund within the window.
ENROLLMENT_PURCHASE_DAYS = env.int("ENROLLMENT_PURCHASE_DAYS", default=730)
REFUND_WINDOW_DAYS = env.int("REFUND_WINDOW_DAYS", default=7)
