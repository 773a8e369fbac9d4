"""Settings of the true floor: Django's request handling and nothing of ours (no app, no
database, one middleware). Imports nothing from config or the apps."""

import os
import secrets

DEBUG = False
# Nothing here signs anything; a key is still required. One from the environment keeps every
# worker alike, else a random one.
SECRET_KEY = os.environ.get("BENCH_FLOOR_SECRET_KEY") or secrets.token_urlsafe(50)
# The loopback names, as production lists the names it serves: the Host check still runs.
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
DATABASES: dict = {}
ROOT_URLCONF = "bench.floor.urls"
WSGI_APPLICATION = "bench.floor.wsgi.application"
