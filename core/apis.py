"""Service-wide endpoints: health."""

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
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


HealthSerializer = inline_serializer(
    "Health",
    fields={
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "database": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "cache": serializers.ChoiceField(choices=["ok", "unavailable"]),
    },
)


class HealthApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(operation_id="health", responses={200: HealthSerializer, 503: HealthSerializer})
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
