"""Production settings refuse unsafe configurations before serving anything."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "ci-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ",
    "JWT_SIGNING_KEY": "ci-jwt-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMN",
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "KAKAOPAY_SECRET_KEY": "ci-kakaopay-secret",
    "PAYMENT_CALLBACK_BASE_URL": "https://app.example.com/payments",
}


def django_check(**overrides) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in PRODUCTION_ENV}
    env.update(PRODUCTION_ENV)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
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
        ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY"),
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"PAYMENT_PROVIDERS": "kakaopay,sandbox"}, "sandbox payment provider"),
        ({"KAKAOPAY_SECRET_KEY": None}, "KAKAOPAY_SECRET_KEY"),
        ({"PAYMENT_CALLBACK_BASE_URL": None}, "PAYMENT_CALLBACK_BASE_URL"),
    ],
)
def test_production_refuses_to_start_without_safe_settings(overrides, complaint):
    result = django_check(**overrides)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_env_example_documents_every_variable_the_settings_read():
    import re

    read = set()
    for settings_file in (ROOT / "config" / "settings").glob("*.py"):
        read |= set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z0-9_]+)"', settings_file.read_text()))
    documented = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), flags=re.M))
    assert read, "no env() calls found"
    assert read <= documented, f"undocumented: {sorted(read - documented)}"
