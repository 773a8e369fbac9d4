"""nginx/init-letsencrypt.sh, the first certificate: run against a stub `docker compose` that logs
each call, so the order of the steps and their arguments are checked without Docker."""

# Running the shipped scripts and the system's tools is what these tests are for.
# ruff: noqa: S603, S607

import subprocess
from pathlib import Path

import pytest

from tests.deployment_files import INIT_LETSENCRYPT, clean_env, write_env_file

STUB_COMPOSE = """#!/bin/sh
# Stands in for `docker compose`: logs its arguments; `test -e` of a renewal file and certbot
# certonly answer with the statuses the test chose.
printf '%s\\n' "$*" >> "$STUB_LOG"
case "$*" in
    *"--entrypoint test "*) exit "$STUB_EXISTING_STATUS" ;;
    *" certonly "*) exit "$STUB_CERTBOT_STATUS" ;;
esac
"""


def run_init_letsencrypt(
    tmp_path: Path, *args: str, existing: bool = False, certbot_ok: bool = True, **env_file: str
) -> tuple[subprocess.CompletedProcess, list[str]]:
    stub, log = tmp_path / "compose", tmp_path / "compose.log"
    stub.write_text(STUB_COMPOSE)
    stub.chmod(0o755)
    log.touch()
    result = subprocess.run(
        ["sh", str(INIT_LETSENCRYPT), *args],
        env=clean_env(
            COMPOSE=str(stub),
            ENV_FILE=str(write_env_file(tmp_path / ".env", env_file)),
            STUB_LOG=str(log),
            STUB_EXISTING_STATUS="0" if existing else "1",
            STUB_CERTBOT_STATUS="0" if certbot_ok else "1",
        ),
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result, log.read_text().splitlines()


def step(call: str) -> str:
    """Which step of the certificate dance one compose call is."""
    if "--entrypoint test " in call:
        return "check existing"
    if "openssl req -x509" in call:
        return "placeholder"
    if call == "up -d nginx":
        return "nginx up"
    if "rm -rf" in call:
        return "remove placeholder"
    if " certonly " in call:
        return "certonly"
    if call == "exec -T nginx nginx -s reload":
        return "reload"
    return f"unexpected: {call}"


def test_init_letsencrypt_starts_nginx_on_a_placeholder_then_swaps_in_the_real_certificate(
    tmp_path,
):
    result, calls = run_init_letsencrypt(tmp_path, "api.example.com", "ops@example.com")
    assert result.returncode == 0, result.stderr
    assert [step(call) for call in calls] == [
        "check existing",
        "placeholder",
        "nginx up",
        "remove placeholder",
        "certonly",
        "reload",
    ]
    live = "/etc/letsencrypt/live/api.example.com"
    assert f"-keyout '{live}/privkey.pem' -out '{live}/fullchain.pem'" in calls[1]
    assert f"rm -rf '{live}'" in calls[3]
    assert calls[4] == (
        "run --rm --entrypoint certbot certbot certonly --webroot -w /var/www/certbot"
        " -d api.example.com --email ops@example.com --agree-tos --no-eff-email --non-interactive"
    )


def test_init_letsencrypt_reads_domain_and_email_from_the_env_file_and_can_use_staging(tmp_path):
    result, calls = run_init_letsencrypt(
        tmp_path, "--staging", NGINX_SERVER_NAME="lms.example.org", CERTBOT_EMAIL="a@example.org"
    )
    assert result.returncode == 0, result.stderr
    certonly = next(call for call in calls if step(call) == "certonly")
    assert "-d lms.example.org --email a@example.org" in certonly
    assert certonly.endswith(" --staging")
    assert sum("--staging" in call for call in calls) == 1


def test_init_letsencrypt_leaves_a_managed_certificate_alone_unless_forced(tmp_path):
    result, calls = run_init_letsencrypt(
        tmp_path, "api.example.com", "ops@example.com", existing=True
    )
    assert result.returncode == 0
    assert "already has a certificate" in result.stderr
    assert [step(call) for call in calls] == ["check existing"]

    (tmp_path / "compose.log").unlink()
    result, calls = run_init_letsencrypt(
        tmp_path, "--force", "api.example.com", "ops@example.com", existing=True
    )
    assert result.returncode == 0, result.stderr
    assert [step(call) for call in calls][-1] == "reload"
    assert "check existing" not in [step(call) for call in calls]


def test_init_letsencrypt_puts_the_placeholder_back_when_certbot_fails(tmp_path):
    result, calls = run_init_letsencrypt(
        tmp_path, "api.example.com", "ops@example.com", certbot_ok=False
    )
    assert result.returncode == 1
    assert [step(call) for call in calls][-2:] == ["certonly", "placeholder"]
    assert "reload" not in [step(call) for call in calls]


@pytest.mark.parametrize(
    "args", [(), ("api.example.com",), ("api.example.com;reboot", "ops@example.com")]
)
def test_init_letsencrypt_refuses_a_missing_email_or_a_bad_domain_before_touching_docker(
    tmp_path, args
):
    result, calls = run_init_letsencrypt(tmp_path, *args)
    assert result.returncode == 2
    assert calls == []
