"""Production settings serving bench/urls.py, so the bare comparison view stays out of config."""

import os

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# Production refuses the sandbox payment provider, and checkout.py pays through it on loopback:
# only that script turns it back on, after production's own check ran.
if os.environ.get("BENCH_PAYMENT_SANDBOX") == "1":
    PAYMENT_PROVIDERS = ["sandbox"]
