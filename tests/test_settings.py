"""Production settings refuse unsafe configurations before serving anything."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings.base import PUBLIC_KEYS

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
    "MEDIA_SIGNING_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "KAKAOPAY_SECRET_KEY": "ci-kakaopay-secret",
    "PAYMENT_CALLBACK_BASE_URL": "https://app.example.com/payments",
    "PUBLIC_BASE_URL": "https://api.example.com",
}


def _production_env(overrides: dict) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in PRODUCTION_ENV}
    env.update(PRODUCTION_ENV, DJANGO_ENV_FILE=os.devnull)  # not the checkout's own .env
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def production_setting(name: str, **overrides) -> str:
    code = f"from django.conf import settings; print(settings.{name})"
    return subprocess.run(  # noqa: S603 (our interpreter, a fixed snippet)
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_production_env(overrides),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()


def django_check(**overrides) -> subprocess.CompletedProcess:
    env = _production_env(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_pass_the_deploy_check():
    result = django_check()
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"REDIS_URL": None}, "shared cache"),
        ({"JWT_SIGNING_KEY": PRODUCTION_ENV["DJANGO_SECRET_KEY"]}, "JWT_SIGNING_KEY"),
        ({"JWT_SIGNING_KEY": None}, "JWT_SIGNING_KEY"),
        ({"MEDIA_SIGNING_KEY": None}, "MEDIA_SIGNING_KEY"),
        ({"MEDIA_SIGNING_KEY": PRODUCTION_ENV["JWT_SIGNING_KEY"]}, "MEDIA_SIGNING_KEY"),
        ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY"),
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"PAYMENT_PROVIDERS": "kakaopay,sandbox"}, "sandbox payment provider"),
        ({"KAKAOPAY_SECRET_KEY": None}, "KAKAOPAY_SECRET_KEY"),
        ({"PAYMENT_CALLBACK_BASE_URL": None}, "PAYMENT_CALLBACK_BASE_URL"),
        ({"PUBLIC_BASE_URL": None}, "PUBLIC_BASE_URL"),
        ({"KAKAO_REST_API_KEY": "kakao-rest-key", "KAKAO_APP_ID": ""}, "KAKAO_APP_ID"),
        ({"CHAT_CHANNEL_LAYER": "memory"}, "CHAT_CHANNEL_LAYER"),
        # A live transcode would look dead between two heartbeats and be processed twice.
        (
            {"VIDEO_HEARTBEAT_SECONDS": "100", "VIDEO_REQUEUE_AFTER_SECONDS": "180"},
            "VIDEO_REQUEUE_AFTER_SECONDS",
        ),
    ],
)
def test_production_refuses_to_start_without_safe_settings(overrides, complaint):
    result = django_check(**overrides)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_production_logs_json_lines_unless_told_otherwise():
    formatter = 'LOGGING["handlers"]["console"]["formatter"]'
    assert production_setting(formatter) == "json"
    assert production_setting(formatter, LOG_FORMAT="text") == "text"


def test_production_chat_rides_on_redis_with_the_chosen_channel_layer():
    backend = 'CHANNEL_LAYERS["default"]["BACKEND"]'
    assert production_setting(backend) == "chat.layers.PubSubChannelLayer"  # channels_redis's
    core = production_setting(backend, CHAT_CHANNEL_LAYER="core")
    assert core == "channels_redis.core.RedisChannelLayer"
    hosts = production_setting('CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]')
    assert "'address': 'redis://127.0.0.1:6379/0'" in hosts


def test_production_queues_tasks_on_the_broker_never_in_the_request():
    assert production_setting("CELERY_BROKER_URL") == "redis://127.0.0.1:6379/0"
    other = production_setting("CELERY_BROKER_URL", CELERY_BROKER_URL="redis://broker:6379/2")
    assert other == "redis://broker:6379/2"
    assert production_setting("CELERY_BROKER_URL", CELERY_BROKER_URL="") == (
        "redis://127.0.0.1:6379/0"
    ), "an empty CELERY_BROKER_URL in .env means REDIS_URL"
    assert production_setting("CELERY_TASK_ALWAYS_EAGER") == "False"
    assert production_setting("CELERY_TASK_ACKS_LATE") == "True"


def _production_import_refused(code: str) -> str:
    """Run `code` (which patches settings, then imports config.settings.production): it must
    fail; its standard error."""
    result = subprocess.run(  # noqa: S603 (our interpreter, a fixed snippet)
        [sys.executable, "-c", code], cwd=ROOT, env=_production_env({}), capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    return result.stderr


def test_production_refuses_to_run_tasks_eagerly():
    code = (
        "import config.settings.tasks as tasks; tasks.CELERY_TASK_ALWAYS_EAGER = True; "
        "import config.settings.base as base; base.CELERY_TASK_ALWAYS_EAGER = True; "
        "import config.settings.production"
    )
    assert "Celery broker" in _production_import_refused(code)


def test_production_refuses_an_in_memory_channel_layer():
    """Reached only if a shared cache came from elsewhere than REDIS_URL: still refused."""
    code = (
        "import config.settings.chat as chat; "
        "chat.CHANNEL_LAYERS = {'default': {'BACKEND': 'channels.layers.InMemoryChannelLayer'}}; "
        "import config.settings.base as base; base.CHANNEL_LAYERS = chat.CHANNEL_LAYERS; "
        "import config.settings.production"
    )
    assert "shared channel layer" in _production_import_refused(code)


def test_production_keeps_the_api_docs_for_staff_unless_told_otherwise():
    assert production_setting("API_DOCS_PUBLIC") == "False"
    assert production_setting("API_DOCS_PUBLIC", API_DOCS_PUBLIC="true") == "True"


@pytest.mark.parametrize("variable", ["DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "MEDIA_SIGNING_KEY"])
@pytest.mark.parametrize("key", [*sorted(PUBLIC_KEYS), "short-but-random-Xy81", "a" * 60])
def test_production_refuses_a_published_or_weak_signing_key(variable, key):
    result = django_check(**{variable: key})
    assert result.returncode != 0
    assert variable in result.stderr


def _local_settings(env_file: Path, **overrides) -> subprocess.CompletedProcess:
    """Loads config.settings.local with `env_file` as its .env; prints the two keys."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "DJANGO_DEBUG")
    }
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", DJANGO_ENV_FILE=str(env_file))
    env.update(overrides)
    code = "from django.conf import settings; print(settings.SECRET_KEY, settings.JWT_SIGNING_KEY)"
    return subprocess.run(  # noqa: S603 (our interpreter, a fixed snippet)
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_local_settings_make_random_keys_once_and_keep_them_in_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_SECRET_KEY=\nOTHER=kept\n")  # as copied from .env.example

    first = _local_settings(env_file)
    again = _local_settings(env_file)
    elsewhere = _local_settings(tmp_path / "other.env")

    assert first.returncode == 0, first.stderr
    secret_key, jwt_key = first.stdout.split()
    assert len(secret_key) >= 50 and len(jwt_key) >= 50 and secret_key != jwt_key
    assert not {secret_key, jwt_key} & PUBLIC_KEYS
    assert again.stdout == first.stdout
    assert elsewhere.stdout.split()[0] != secret_key
    assert env_file.read_text().splitlines() == [
        "OTHER=kept",
        f"DJANGO_SECRET_KEY={secret_key}",
        f"JWT_SIGNING_KEY={jwt_key}",
    ]
    assert env_file.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("key", sorted(PUBLIC_KEYS))
def test_local_settings_without_debug_refuse_a_published_key(tmp_path, key):
    result = _local_settings(tmp_path / ".env", DJANGO_DEBUG="false", JWT_SIGNING_KEY=key)
    assert result.returncode != 0
    assert "JWT_SIGNING_KEY is a published placeholder" in result.stderr


def test_env_example_documents_every_variable_the_settings_read():
    import re

    read = set()
    for settings_file in (ROOT / "config" / "settings").glob("*.py"):
        read |= set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z0-9_]+)"', settings_file.read_text()))
    documented = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), flags=re.M))
    assert read, "no env() calls found"
    assert read <= documented, f"undocumented: {sorted(read - documented)}"


def test_file_urls_are_absolute_in_development_too(tmp_path):
    """The avatar is rendered into a cached payload without a request: only a configured base
    keeps it as absolute as the image list's URLs for the same file."""
    env = {key: value for key, value in os.environ.items() if key != "PUBLIC_BASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", DJANGO_ENV_FILE=str(tmp_path / "e"))
    code = "from django.conf import settings; print(settings.PUBLIC_BASE_URL)"
    result = subprocess.run(  # noqa: S603 (our interpreter, a fixed snippet)
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "http://127.0.0.1:8000"


# --- Uploads on S3 (config/settings/storage.py) -------------------------------------------------

S3_ENV = {
    "S3_BUCKET": "lms-media",
    "S3_PROTECTED_BUCKET": "lms-protected",
    "S3_ENDPOINT_URL": "http://objectstore:8333",
    "S3_ACCESS_KEY_ID": "lms-app",
    "S3_SECRET_ACCESS_KEY": "a-secret-of-the-object-store",
    "S3_CUSTOM_DOMAIN": "api.example.com/media-store",
    "PROTECTED_ACCEL_REDIRECT_PREFIX": "/protected-store/",
}


def test_production_on_an_s3_compatible_store_passes_the_deploy_check():
    result = django_check(**S3_ENV)
    assert result.returncode == 0, result.stderr
    protected = 'STORAGES["protected"]["OPTIONS"]'
    public = 'STORAGES["default"]["OPTIONS"]'
    assert production_setting(f'{protected}["bucket_name"]', **S3_ENV) == "lms-protected"
    assert production_setting(f'{protected}["querystring_auth"]', **S3_ENV) == "True"
    assert production_setting(f'{protected}["querystring_expire"]', **S3_ENV) == "300"
    assert production_setting(f'{public}["querystring_auth"]', **S3_ENV) == "False"
    assert production_setting(f'{public}["custom_domain"]', **S3_ENV) == S3_ENV["S3_CUSTOM_DOMAIN"]
    assert production_setting(f'{public}["file_overwrite"]', **S3_ENV) == "False"
    style = f'{public}["client_config"].s3["addressing_style"]'
    assert production_setting(style, **S3_ENV) == "path"


def test_production_on_aws_needs_no_endpoint_nor_custom_domain_nor_keys():
    """An instance or task role gives the keys; the bucket's own host serves public media."""
    aws = {
        **S3_ENV,
        "S3_ENDPOINT_URL": None,
        "S3_CUSTOM_DOMAIN": None,
        "PROTECTED_ACCEL_REDIRECT_PREFIX": "",
    }
    aws |= {"S3_ACCESS_KEY_ID": None, "S3_SECRET_ACCESS_KEY": None}
    assert django_check(**aws).returncode == 0
    style = 'STORAGES["default"]["OPTIONS"]["client_config"].s3["addressing_style"]'
    assert production_setting(style, **aws) == "virtual"


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"S3_PROTECTED_BUCKET": None}, "S3_PROTECTED_BUCKET"),
        ({"S3_BUCKET": None}, "S3_BUCKET"),
        ({"S3_PROTECTED_BUCKET": "lms-media"}, "S3_PROTECTED_BUCKET must differ from S3_BUCKET"),
        ({"S3_SECRET_ACCESS_KEY": None}, "S3_SECRET_ACCESS_KEY"),
        ({"S3_CUSTOM_DOMAIN": None}, "S3_CUSTOM_DOMAIN"),
        ({"S3_CUSTOM_DOMAIN": "https://cdn.example.com"}, "S3_CUSTOM_DOMAIN is a host"),
        ({"S3_URL_PROTOCOL": "http:"}, "S3_URL_PROTOCOL"),
        ({"S3_PRESIGN_SECONDS": "0"}, "S3_PRESIGN_SECONDS"),
        ({"PROTECTED_ACCEL_REDIRECT_PREFIX": "/protected-videos/"}, "maps a folder"),
    ],
)
def test_production_refuses_an_s3_configuration_that_cannot_work_safely(overrides, complaint):
    result = django_check(**{**S3_ENV, **overrides})
    assert result.returncode != 0
    assert complaint in result.stderr


def test_production_on_disk_refuses_the_object_stores_nginx_location():
    result = django_check(PROTECTED_ACCEL_REDIRECT_PREFIX="/protected-store/")
    assert result.returncode != 0
    assert "S3_BUCKET is not set" in result.stderr


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"protected_bucket": ""}, "needs S3_PROTECTED_BUCKET"),
        ({"bucket": ""}, "needs S3_BUCKET"),
        ({"protected_bucket": "lms-media"}, "must differ"),
        ({"secret_key": ""}, "S3_SECRET_ACCESS_KEY"),
        ({"custom_domain": "https://cdn.example.com"}, "host[/path]"),
        ({"presign_seconds": 0}, "S3_PRESIGN_SECONDS"),
        ({"presign_seconds": 8 * 24 * 3600}, "S3_PRESIGN_SECONDS"),
    ],
)
def test_s3_storages_refuse_what_cannot_work(options, complaint):
    from django.core.exceptions import ImproperlyConfigured

    from config.settings.storage import s3_storages

    settings = {"bucket": "lms-media", "protected_bucket": "lms-protected"}
    settings |= {"access_key": "key", "secret_key": "secret"}
    with pytest.raises(ImproperlyConfigured, match=re.escape(complaint)):
        s3_storages(**(settings | options))


def test_s3_storages_keep_public_urls_plain_and_protected_ones_signed_and_short():
    from config.settings.storage import s3_storages

    storages = s3_storages(
        bucket="lms-media", protected_bucket="lms-protected", url_protocol="http",
        presign_seconds=60, read_timeout=1.5, max_attempts=3,
    )  # fmt: skip
    public, protected = storages["default"]["OPTIONS"], storages["protected"]["OPTIONS"]
    assert (public["querystring_auth"], protected["querystring_auth"]) == (False, True)
    assert protected["querystring_expire"] == 60 and "custom_domain" not in protected
    assert public["file_overwrite"] is protected["file_overwrite"] is False
    assert public["url_protocol"] == "http:"
    assert "access_key" not in public, "no key: boto3's own chain (an instance role)"
    config = public["client_config"]
    assert (config.read_timeout, config.retries["total_max_attempts"]) == (1.5, 3)
    assert config.s3["addressing_style"] == "virtual" and config.signature_version == "s3v4"
