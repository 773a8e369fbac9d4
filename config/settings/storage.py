"""Where uploads live. By default on this host's disk: public media (pictures, posters) under
MEDIA_ROOT, which nginx serves at /media/, and protected files (lecture videos, assignment files)
under PROTECTED_MEDIA_ROOT, sent only after an access check. With S3_BUCKET set, both live in
buckets of an S3-compatible object store (AWS S3, SeaweedFS, MinIO) that every host shares."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.environment import BASE_DIR, env

S3_BACKEND = "storages.backends.s3.S3Storage"
FILESYSTEM_BACKEND = "django.core.files.storage.FileSystemStorage"
STATICFILES = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# SigV4 presigned URLs live at most a week (AWS refuses longer).
PRESIGN_MAX_SECONDS = 7 * 24 * 3600
# nginx's internal locations (nginx/templates): the protected folder, and the object store.
FILESYSTEM_ACCEL_PREFIX = "/protected-videos/"
STORE_ACCEL_PREFIX = "/protected-store/"


def filesystem_storages(*, protected_root: str) -> dict:
    return {
        "default": {"BACKEND": FILESYSTEM_BACKEND},
        "staticfiles": STATICFILES,
        "protected": {
            "BACKEND": FILESYSTEM_BACKEND,
            "OPTIONS": {"location": protected_root, "base_url": None},
        },
    }


def s3_storages(
    *,
    bucket: str,
    protected_bucket: str,
    endpoint_url: str = "",
    region: str = "us-east-1",
    access_key: str = "",
    secret_key: str = "",
    custom_domain: str = "",
    url_protocol: str = "https:",
    addressing_style: str = "",
    presign_seconds: int = 300,
    connect_timeout: float = 2.0,
    read_timeout: float = 5.0,
    max_attempts: int = 2,
    location: str = "",
) -> dict:
    """STORAGES on two buckets: `bucket` public (plain URLs, on `custom_domain` when given),
    `protected_bucket` private (only presigned URLs, valid `presign_seconds`). Names are never
    overwritten. Timeouts and attempts bound how long a request waits for a store that is down.
    `location` is a key prefix inside both buckets (tests give each test its own)."""
    if not protected_bucket:
        raise ImproperlyConfigured("S3_BUCKET needs S3_PROTECTED_BUCKET (private) as well.")
    if not bucket:
        raise ImproperlyConfigured("S3_PROTECTED_BUCKET needs S3_BUCKET (public media) as well.")
    if bucket == protected_bucket:
        raise ImproperlyConfigured(
            "S3_PROTECTED_BUCKET must differ from S3_BUCKET: public media are served to anyone."
        )
    if bool(access_key) != bool(secret_key):
        raise ImproperlyConfigured(
            "Set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither."
        )
    if "://" in custom_domain:
        raise ImproperlyConfigured(
            "S3_CUSTOM_DOMAIN is a host[/path] (cdn.example.com); the scheme is S3_URL_PROTOCOL."
        )
    if not 1 <= presign_seconds <= PRESIGN_MAX_SECONDS:
        raise ImproperlyConfigured(f"S3_PRESIGN_SECONDS must be 1 to {PRESIGN_MAX_SECONDS}.")
    # Imported here: a deployment on disk never loads botocore.
    from botocore.config import Config

    # AWS serves buckets as host names; other stores are usually reached by path.
    style = addressing_style or ("path" if endpoint_url else "virtual")
    client_config = Config(
        s3={"addressing_style": style},
        signature_version="s3v4",
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
    )
    common = {
        "endpoint_url": endpoint_url or None,
        "region_name": region,
        "client_config": client_config,
        "file_overwrite": False,
        "default_acl": None,  # access comes from the bucket's policy, never per object
        "location": location,
    }
    if access_key:  # else boto3's own chain: an instance or task role, AWS_* variables
        common |= {"access_key": access_key, "secret_key": secret_key}
    return {
        "default": {
            "BACKEND": S3_BACKEND,
            "OPTIONS": {
                **common,
                "bucket_name": bucket,
                "querystring_auth": False,
                "custom_domain": custom_domain or None,
                "url_protocol": url_protocol.rstrip(":") + ":",  # django-storages' form
            },
        },
        "staticfiles": STATICFILES,
        "protected": {
            "BACKEND": S3_BACKEND,
            "OPTIONS": {
                **common,
                "bucket_name": protected_bucket,
                "querystring_auth": True,
                "querystring_expire": presign_seconds,
            },
        },
    }


def storage_deploy_check(*, storages: dict, accel_prefix: str) -> None:
    """Production's refusals: public URLs that would name a private object store or travel
    unencrypted, and an nginx location that cannot hold the protected files."""
    protected = storages["protected"]
    if protected["BACKEND"] != S3_BACKEND:
        if accel_prefix == STORE_ACCEL_PREFIX:
            raise ImproperlyConfigured(
                f"PROTECTED_ACCEL_REDIRECT_PREFIX={STORE_ACCEL_PREFIX} proxies the object store, "
                "but S3_BUCKET is not set: protected files are on disk."
            )
        return
    if accel_prefix == FILESYSTEM_ACCEL_PREFIX:
        raise ImproperlyConfigured(
            f"PROTECTED_ACCEL_REDIRECT_PREFIX={FILESYSTEM_ACCEL_PREFIX} maps a folder, but the "
            f"protected files are in S3_PROTECTED_BUCKET: use {STORE_ACCEL_PREFIX} (nginx proxies "
            "the store) or leave it empty (a redirect to a presigned URL)."
        )
    public = storages["default"]["OPTIONS"]
    if public["endpoint_url"] and not public["custom_domain"]:
        raise ImproperlyConfigured(
            "S3_ENDPOINT_URL without S3_CUSTOM_DOMAIN: picture URLs would name the object store, "
            "which must stay private; set the host (and path) that serves S3_BUCKET publicly."
        )
    if public["url_protocol"] != "https:":
        raise ImproperlyConfigured("S3_URL_PROTOCOL must be https: in production.")


MEDIA_URL = "/media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
# Lecture videos and assignment files: outside MEDIA_ROOT, never served by URL, only sent after
# an access check (core.protected_files).
PROTECTED_MEDIA_ROOT = env("PROTECTED_MEDIA_ROOT", default=str(BASE_DIR / "protected_media"))

S3_BUCKET = env("S3_BUCKET", default="")
S3_PROTECTED_BUCKET = env("S3_PROTECTED_BUCKET", default="")
if S3_BUCKET or S3_PROTECTED_BUCKET:
    STORAGES = s3_storages(
        bucket=S3_BUCKET,
        protected_bucket=S3_PROTECTED_BUCKET,
        endpoint_url=env("S3_ENDPOINT_URL", default=""),
        region=env("S3_REGION", default="us-east-1"),
        access_key=env("S3_ACCESS_KEY_ID", default=""),
        secret_key=env("S3_SECRET_ACCESS_KEY", default=""),
        custom_domain=env("S3_CUSTOM_DOMAIN", default="").strip("/"),
        url_protocol=env("S3_URL_PROTOCOL", default="https:"),
        addressing_style=env("S3_ADDRESSING_STYLE", default=""),
        presign_seconds=env.int("S3_PRESIGN_SECONDS", default=300),
        connect_timeout=env.float("S3_CONNECT_TIMEOUT", default=2.0),
        read_timeout=env.float("S3_READ_TIMEOUT", default=5.0),
        max_attempts=env.int("S3_MAX_ATTEMPTS", default=2),
    )
else:
    STORAGES = filesystem_storages(protected_root=PROTECTED_MEDIA_ROOT)
