"""WSGI entry point of the true floor. The settings module is forced, not defaulted: the
environment the benchmarks pass on may name the project's settings, which this must never serve."""

import os

from django.core.wsgi import get_wsgi_application

from bench.floor import SETTINGS

os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS

application = get_wsgi_application()
