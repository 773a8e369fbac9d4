"""Service-wide endpoints: health.

Liveness (`/api/health/live/`) says the process answers HTTP, touching nothing else: it is the
container's healthcheck, and a database or Redis outage must not mark healthy workers for a
restart that cures nothing. Readiness (`/api/health/ready/`, and `/api/health/` where it always
was) also checks the database and the cache, for whoever decides whether to send traffic."""

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

logger = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("health: database check failed")
        return False


def _cache_ok() -> bool:
    probe_key, probe_value = "health:probe", uuid.uuid4().hex
    try:
        cache.set(probe_key, probe_value, timeout=10)
        return cache.get(probe_key) == probe_value
    except Exception:
        logger.exception("health: cache check failed")
        return False


LIVE_DESCRIPTION = (
    "Liveness: 200 while the process answers HTTP. Checks nothing else (no database, no cache); "
    "the container's healthcheck."
)
READY_DESCRIPTION = (
    "Readiness: 200 when the database and the cache answer, else 503 naming the failing part. "
    "`/api/health/` and `/api/health/ready/` are the same check."
)

HealthSerializer = inline_serializer(
    "Health",
    fields={
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "database": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "cache": serializers.ChoiceField(choices=["ok", "unavailable"]),
    },
)


HealthLiveSerializer = inline_serializer(
    "HealthLive", fields={"status": serializers.ChoiceField(choices=["ok"])}
)


class HealthLiveApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    @extend_schema(
        operation_id="health_live",
        description=LIVE_DESCRIPTION,
        responses={200: HealthLiveSerializer},
    )
    def get(self, request):
        return Response({"status": "ok"})


class HealthApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    @extend_schema(
        operation_id="health",
        description=READY_DESCRIPTION,
        responses={200: HealthSerializer, 503: HealthSerializer},
    )
    def get(self, request):
        checks = {
            "database": "ok" if _database_ok() else "unavailable",
            "cache": "ok" if _cache_ok() else "unavailable",
        }
        healthy = all(value == "ok" for value in checks.values())
        return Response(
            {"status": "ok" if healthy else "unavailable", **checks},
            status=200 if healthy else 503,
        )


@extend_schema_view(get=extend_schema(operation_id="health_ready", description=READY_DESCRIPTION))
class HealthReadyApi(HealthApi):
    """The readiness check under its explicit name; `/api/health/` stays for existing callers."""
