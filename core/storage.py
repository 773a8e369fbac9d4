"""The protected storage (STORAGES["protected"]: lecture videos, assignment files), which is never
served publicly, only through views that check access; and what core knows of object stores:
which errors mean the store is unreachable, and short-lived presigned URLs."""

from django.apps import apps
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import Storage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver


def protected_storage() -> Storage:
    # A callable, so that migrations name this function instead of freezing a storage's settings.
    return storages["protected"]


@receiver(setting_changed)
def _protected_fields_follow(*, setting: str, **kwargs) -> None:
    """Fields declared with protected_storage hold the storage made when their model was
    defined; a new STORAGES (a test on the object store) gives them the new one."""
    if setting != "STORAGES":
        return
    # Made here from the setting: Django's own receiver may not have emptied `storages` yet.
    storage = storages.create_storage((kwargs.get("value") or settings.STORAGES)["protected"])
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if getattr(field, "_storage_callable", None) is protected_storage:
                field.storage = storage  # type: ignore[union-attr]


def signs_urls(storage: Storage) -> bool:
    """True for an object store that hands out presigned URLs (S3 with querystring auth)."""
    return bool(getattr(storage, "querystring_auth", False)) and hasattr(storage, "bucket_name")


def presigned_url(storage: Storage, name: str, *, response_headers: dict[str, str]) -> str:
    """A GET URL of `name` valid for the storage's querystring_expire (S3_PRESIGN_SECONDS); the
    store answers with `response_headers` (Content-Type, Content-Disposition, Cache-Control)."""
    parameters = {
        f"Response{header.replace('-', '')}": value for header, value in response_headers.items()
    }
    return storage.url(name, parameters=parameters)  # type: ignore[call-arg]


def is_store_unavailable(exc: BaseException) -> bool:
    """The object store could not be reached, timed out, or answered 5xx: retrying may work.
    Other S3 errors (403 from a wrong key, a missing bucket) are configuration bugs and stay
    500s."""
    try:
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import ClientError, ConnectionError, HTTPClientError
    except ImportError:  # pragma: no cover - boto3 is a requirement
        return False
    if isinstance(exc, (ConnectionError, HTTPClientError)):
        return True
    if isinstance(exc, S3UploadFailedError):  # boto3's upload wraps the ClientError it met
        return exc.__context__ is not None and is_store_unavailable(exc.__context__)
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return int(status) >= 500
    return False


def is_file_missing(exc: BaseException) -> bool:
    """The file is not there: on disk (or a name outside the storage), or on the object store
    (its 404)."""
    if isinstance(exc, (FileNotFoundError, SuspiciousFileOperation)):
        return True
    try:
        from botocore.exceptions import ClientError
    except ImportError:  # pragma: no cover - boto3 is a requirement
        return False
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return int(status) == 404 or exc.response.get("Error", {}).get("Code") == "NoSuchKey"
    return False
