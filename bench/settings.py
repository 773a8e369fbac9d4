"""Production settings serving bench/urls.py, so the bare comparison view stays out of config."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
