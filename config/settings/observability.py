"""Logging (time, level, logger and request id on every line) and Sentry."""

from typing import Any

from config.settings.environment import env

# Every line names its time, level, logger and request id (core.request_id): `text` for reading in
# a terminal, `json` (one object per line, production's default) for a log collector.
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.request_id.RequestIdLogFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own loggers (runserver's request lines too) go to the handler above, in the
        # same format, instead of Django's default handlers.
        "django": {"handlers": [], "propagate": True},
        "django.request": {"level": "ERROR"},
    },
}

# Unset: Sentry is never initialised and nothing leaves the process (core.sentry).
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    from core.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        release=env("SENTRY_RELEASE", default=""),
    )
