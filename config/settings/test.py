"""Test run: the database comes from DATABASE_URL (PostgreSQL in CI), a fast hasher."""

import tempfile

from .base import *  # noqa: F403
from .base import SIMPLE_JWT, filesystem_storages

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
CSRF_TRUSTED_ORIGINS = CORS_ALLOWED_ORIGINS
JWT_SIGNING_KEY = "test-jwt-signing-key-with-enough-entropy-0123456789"
SIMPLE_JWT["SIGNING_KEY"] = JWT_SIGNING_KEY
# Argon2 is checked by its own tests (accounts/tests/test_passwords.py).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run in the test's process after commit, even with REDIS_URL set (a broker with no worker
# would keep them); core/tests/test_tasks_worker.py runs a real worker against Redis.
CELERY_TASK_ALWAYS_EAGER = True
SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = "test-google-client-id.apps.googleusercontent.com"
SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = "test-google-secret"
SOCIAL_AUTH_KAKAO_KEY = "test-kakao-rest-api-key"
SOCIAL_AUTH_KAKAO_SECRET = "test-kakao-secret"
SOCIAL_AUTH_KAKAO_APP_ID = "1234567"

# Uploads go to throw-away folders, never into the checkout.
MEDIA_ROOT = tempfile.mkdtemp(prefix="lms-test-media-")
# As production sets it: every file URL absolute on one base, with or without a request.
PUBLIC_BASE_URL = "http://testserver"
PROTECTED_MEDIA_ROOT = tempfile.mkdtemp(prefix="lms-test-protected-")
# On disk whatever S3_* say: a test runs on the object store by asking for it (the object_store
# fixture in conftest.py gives the STORAGES).
STORAGES = filesystem_storages(protected_root=PROTECTED_MEDIA_ROOT)

# Both providers; KakaoPay is stubbed at the HTTP boundary (responses) in the tests.
PAYMENT_PROVIDERS = ["sandbox", "kakaopay"]
KAKAOPAY_SECRET_KEY = "test-kakaopay-secret-key"
KAKAOPAY_API_URL = "https://open-api.kakaopay.com"
PAYMENT_CALLBACK_BASE_URL = "https://app.example.com/payments"
PAYMENT_SANDBOX_BASE_URL = "http://testserver"
