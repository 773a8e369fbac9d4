"""An object store that cannot be reached, times out or fails is 503 `storage_unavailable` with
Retry-After, never a 500; a store that refuses (a wrong key, a missing bucket) stays a 500, as the
configuration bug it is. Real outages are in tests/test_object_storage_api.py."""

import pytest
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from django.test import RequestFactory

from core.errors import STORAGE_RETRY_AFTER_SECONDS
from core.exceptions import exception_handler
from core.middleware import DatabaseUnavailableMiddleware
from core.storage import is_store_unavailable

URL = "http://objectstore:8333/lms-media/x.webp"


def client_error(status: int, code: str) -> ClientError:
    response = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "PutObject")


def upload_failed(cause: Exception) -> S3UploadFailedError:
    """As boto3's upload_fileobj raises it: from inside its `except ClientError`."""
    try:
        try:
            raise cause
        except ClientError as error:
            raise S3UploadFailedError(f"Failed to upload: {error}")  # noqa: B904
    except S3UploadFailedError as failed:
        return failed


@pytest.mark.parametrize(
    ("exc", "unavailable"),
    [
        (EndpointConnectionError(endpoint_url=URL), True),
        (ConnectTimeoutError(endpoint_url=URL), True),
        (ReadTimeoutError(endpoint_url=URL), True),
        (ConnectionClosedError(endpoint_url=URL), True),
        (client_error(503, "SlowDown"), True),
        (client_error(500, "InternalError"), True),
        (upload_failed(client_error(503, "SlowDown")), True),
        (client_error(403, "AccessDenied"), False),
        (client_error(404, "NoSuchBucket"), False),
        (upload_failed(client_error(403, "InvalidAccessKeyId")), False),
        (NoCredentialsError(), False),
        (OSError("disk full"), False),
    ],
)
def test_only_an_unreachable_or_failing_store_counts_as_unavailable(exc, unavailable):
    assert is_store_unavailable(exc) is unavailable


def test_the_api_answers_an_unreachable_store_with_503_in_the_envelope():
    response = exception_handler(EndpointConnectionError(endpoint_url=URL), {})
    assert response is not None
    assert response.status_code == 503
    assert response.data["error"]["code"] == "storage_unavailable"
    assert response["Retry-After"] == str(STORAGE_RETRY_AFTER_SECONDS)


def test_a_refusing_store_is_left_to_be_a_500():
    assert exception_handler(client_error(403, "AccessDenied"), {}) is None


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/api/anything/", "application/json"), ("/admin/videos/image/add/", "text/plain")],
)
def test_views_outside_drf_answer_503_too(path, content_type):
    """The admin's upload forms, say: the middleware answers what the handler would."""
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    request = RequestFactory().post(path)
    response = middleware.process_exception(request, ReadTimeoutError(endpoint_url=URL))
    assert response is not None
    assert response.status_code == 503
    assert response["Content-Type"].startswith(content_type)
    assert response["Retry-After"] == str(STORAGE_RETRY_AFTER_SECONDS)
    assert middleware.process_exception(request, client_error(403, "AccessDenied")) is None
