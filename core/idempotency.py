"""`Idempotency-Key` for POSTs that create money or votes: same key + same body -> same response.

The key is claimed, the view runs and its outcome is stored in ONE transaction: a concurrent
duplicate waits on the key's unique index and then replays the stored outcome, and a crash (a
killed worker, a lost database) rolls the claim back with the write, so a retry runs again.
Outcomes below 500 are stored and replayed; a 5xx rolls everything back and frees the key.
Records are kept for IDEMPOTENCY_RETENTION, then purged (manage.py purge_expired).
"""

import functools
import hashlib
import json

from django.conf import settings
from django.db import transaction
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from core.errors import (
    IDEMPOTENCY_ERRORS,
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
    InvalidIdempotencyKey,
)
from core.inserts import insert_unless_conflict
from core.models import IdempotencyRecord
from core.purge import delete_in_batches

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Optional, up to 255 characters. The same key with the same body returns the "
    "first response again (header `Idempotent-Replayed: true`); with another body, 409 "
    "`idempotency_key_reused`.",
)
MAX_KEY_LENGTH = 255


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _claim(*, user, key: str, fingerprint: str) -> tuple[IdempotencyRecord, bool]:
    record = IdempotencyRecord(user=user, key=key, fingerprint=fingerprint)
    if insert_unless_conflict(record):
        return record, True
    # The insert waited for the transaction that holds the key, which has now committed.
    return IdempotencyRecord.objects.get(user=user, key=key), False


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if record.status_code is None:
        raise IdempotencyRequestInProgress()
    return Response(
        record.response_body,
        status=record.status_code,
        headers={"Idempotent-Replayed": "true"},
    )


def idempotent(view_method):
    """Decorate an APIView's `post`; requests without the header run as usual."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None or not request.user.is_authenticated:
            return view_method(self, request, *args, **kwargs)
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise InvalidIdempotencyKey()
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            record, claimed = _claim(user=request.user, key=key, fingerprint=fingerprint)
            if not claimed:
                return _replay(record, fingerprint)
            try:
                response = view_method(self, request, *args, **kwargs)
            except Exception as exc:
                # Domain errors are outcomes too: render them now so they can be replayed.
                response = self.handle_exception(exc)
            if response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            IdempotencyRecord.objects.filter(pk=record.pk).update(
                status_code=response.status_code, response_body=response.data
            )
        return response

    # core.openapi documents them for the operation (mypy does not model function attributes).
    wrapper.error_classes = IDEMPOTENCY_ERRORS  # type: ignore[attr-defined]
    return wrapper


def idempotency_records_purge(*, now, batch_size: int) -> int:
    """Outcomes older than IDEMPOTENCY_RETENTION: a retry that late runs the request again."""
    cutoff = now - settings.IDEMPOTENCY_RETENTION
    return delete_in_batches(
        IdempotencyRecord.objects.filter(created_at__lt=cutoff), batch_size=batch_size
    )
