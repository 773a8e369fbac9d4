"""`make fuzz`: schemathesis against the project's own OpenAPI schema on a live loopback server,
once per role (student, tutor, staff), failing on any 5xx or any response the schema does not
describe. fuzz/README.md explains the choices (settings, exclusions, bounds).
"""

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tools import app
from tools.clients import Client
from tools.procs import HOST, free_port, run_dir, stop
from tools.services import services

DEMO_PASSWORD = "demo-pass-1234"  # noqa: S105 (the demo accounts of `manage.py seed_demo`)
# student2 is the demo buyer: an order, a payment, a receipt and an enrollment exist for it.
ROLES = {"student": "student2@example.com", "tutor": "tutor@example.com",
         "staff": "admin@example.com"}  # fmt: skip
CHECKS = (
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_schema_conformance", "response_headers_conformance",
)  # fmt: skip
CONFIG = Path(__file__).with_name("schemathesis.toml")
# Logout-all and session deletion end the session in use, but schemathesis logs in again on a
# 401 (schemathesis.toml), so they stay in; password change cannot succeed without the password,
# which the fuzzer never sees. Only this one is left out:
EXCLUDED_OPERATIONS = {
    "users_me_deactivate": "deactivates the role's account for good: it could not log in again",
}
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "50"))
# One worker: schemathesis' workers are threads, so more barely help on two cores (the client is
# bound by the GIL), make the order of requests vary between runs, and can trip CPython 3.11's
# `ast` recursion-depth bug (gh-106905) inside hypothesis as a "Runtime Error".
WORKERS = int(os.environ.get("FUZZ_WORKERS", "1"))
# Wall-clock cap for all roles together: a run that needs more fails instead of hanging.
TIME_LIMIT_SECONDS = float(os.environ.get("FUZZ_TIME_LIMIT", "600"))
REQUEST_TIMEOUT_SECONDS = 30
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
# Credential endpoints are throttled per IP and per account; every fuzzing request comes from
# 127.0.0.1, so the real rates would turn most of them into 429s that hide real findings. 429
# stays documented in the schema, and its shape is checked by the throttle tests.
THROTTLE_SCOPES = (
    "LOGIN_IP", "LOGIN_ACCOUNT", "REGISTER_IP", "REGISTER_ACCOUNT", "REFRESH_IP",
    "REFRESH_SESSION", "PASSWORD_RESET_IP", "PASSWORD_RESET_ACCOUNT", "AVAILABILITY_IP",
    "SOCIAL_IP", "IMAGE_UPLOAD", "VIDEO_UPLOAD", "FRIEND_REQUEST", "CHAT_REPORT",
)  # fmt: skip
# No request-line or header-size limit: gunicorn's own 414/400 pages are HTML from the transport,
# not answers of the API under test (see fuzz/README.md).
GUNICORN_ARGS = ("--timeout=60", "--limit-request-line=0", "--limit-request-field_size=0")
# Folders the server writes uploads to; restored with the database on every reset.
FILE_FOLDERS = ("media", "protected")
DATABASE, TEMPLATE = "fuzz", "fuzz_seed"
KEYS = {name: secrets.token_urlsafe(50) for name in ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY")}
# seed_demo has no video; one uploaded by the tutor lets stream, events and progress be reached.
SEED_VIDEO = """
from django.core.files.uploadedfile import SimpleUploadedFile
from accounts.models import CustomUser
from videos.services.videos import video_upload

data = open("videos/tests/fixtures/tiny.mp4", "rb").read()
video_upload(
    owner=CustomUser.objects.get(email="tutor@example.com"),
    file=SimpleUploadedFile("tiny.mp4", data, content_type="video/mp4"),
    title="Fuzz sample",
)
"""


def server_env(folder: Path, postgres, redis, port: int, database: str) -> dict:
    """`config.settings.local` driven by the environment (fuzz/README.md says why not
    production): DEBUG off, PostgreSQL, Redis, only the sandbox payment provider."""
    base_url = f"http://{HOST}:{port}"
    return {
        **os.environ, **KEYS,
        "DJANGO_SETTINGS_MODULE": "config.settings.local", "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_DEBUG": "false",  # errors answer as in production: the envelope, no traceback
        "DATABASE_URL": postgres.url(database), "REDIS_URL": redis.url(),
        "MEDIA_ROOT": str(folder / "media"), "PROTECTED_MEDIA_ROOT": str(folder / "protected"),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        # Only the sandbox: no request ever leaves loopback (social login stays unconfigured, so
        # it answers 404 `unknown_provider` without calling Google or Kakao).
        "PAYMENT_PROVIDERS": "sandbox", "FRONTEND_URL": base_url,
        "PAYMENT_SANDBOX_BASE_URL": base_url,
        # Tokens outlive a role's run: schemathesis logs in again only after a real logout.
        "ACCESS_TOKEN_LIFETIME_SECONDS": "3600",
        # Cheap hashes: login and register are fuzzed hundreds of times on two cores.
        "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST_KIB": "8192", "ARGON2_PARALLELISM": "1",
        "LOG_LEVEL": "WARNING", "GUNICORN_ACCESS_LOG": "", "PYTHONDONTWRITEBYTECODE": "1",
        **{f"THROTTLE_{scope}": "100000/min" for scope in THROTTLE_SCOPES},
    }  # fmt: skip


def seed(folder: Path, postgres, redis) -> None:
    """Migrate and seed once into a template database; each role's reset copies it at once."""
    postgres.execute(f'CREATE DATABASE "{TEMPLATE}"')
    env = server_env(folder, postgres, redis, 0, TEMPLATE)
    app.manage(env, "migrate", "--no-input")
    app.manage(env, "seed_demo")
    app.manage(env, "shell", "-c", SEED_VIDEO)
    for name in FILE_FOLDERS:
        shutil.copytree(folder / name, folder / "seed" / name)


def reset(folder: Path, postgres, redis) -> None:
    """Fresh seeded data, files and cache: every role fuzzes the same starting state."""
    postgres.drop(DATABASE)
    postgres.execute(f'CREATE DATABASE "{DATABASE}" TEMPLATE "{TEMPLATE}"')
    for name in FILE_FOLDERS:
        shutil.rmtree(folder / name)
        shutil.copytree(folder / "seed" / name, folder / name)
    with contextlib.closing(redis.client()) as client:
        client.flushdb()


def schemathesis_run(*, base_url: str, login: str, report: Path, timeout: float) -> int | None:
    """One role's run, its JSON report written to `report`; None when it overran `timeout`."""
    command = [
        SCHEMATHESIS, "--no-color", f"--config-file={CONFIG}", "run",
        f"{base_url}/api/schema/?format=json", f"--url={base_url}", f"--checks={','.join(CHECKS)}",
        # Schema examples, boundary and invalid values, random data, then chains of calls along
        # the links schemathesis infers (POST /api/polls/ -> GET /api/polls/{poll_id}/).
        "--phases=examples,coverage,fuzzing,stateful", f"--max-examples={MAX_EXAMPLES}",
        # Hypothesis derandomised: the same schema and data give the same requests every run.
        "--generation-deterministic", f"--workers={WORKERS}",
        f"--request-timeout={REQUEST_TIMEOUT_SECONDS}",
        "--report=json", f"--report-json-path={report}",
        *(f"--exclude-operation-id={operation}" for operation in EXCLUDED_OPERATIONS),
    ]  # fmt: skip
    env = {**os.environ, "FUZZ_LOGIN": login, "FUZZ_PASSWORD": DEMO_PASSWORD}
    try:
        # Run from the report folder: schemathesis and hypothesis leave caches in the cwd.
        completed = subprocess.run(  # noqa: S603 (our own schemathesis, fixed arguments)
            command, cwd=report.parent, env=env, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return None
    return completed.returncode


def role_result(exit_code: int | None, report: Path) -> dict:
    if exit_code is None:
        return {"problem": f"stopped: over the time limit of {TIME_LIMIT_SECONDS:.0f}s"}
    if not report.exists():
        return {"problem": f"schemathesis exited with {exit_code} and wrote no report"}
    return {"exit_code": exit_code, **json.loads(report.read_text())}


def summarise(results: dict[str, dict]) -> bool:
    """Print the table per role and each failure with its operations; True when all passed."""
    print("\n=== make fuzz: summary ===")
    print(f"{'role':<8} {'operations':>10} {'test cases':>10} {'failures':>9} {'errors':>7}")
    ok, found = True, []
    for role, result in results.items():
        if "problem" in result:
            print(f"{role:<8} {result['problem']}")
            ok = False
            continue
        failures = sum(group["count"] for group in result["failures"])
        errors = sum(group["count"] for group in result["errors"])
        tested = (result["operations"] or {}).get("tested", 0)
        generated = result["test_cases"]["generated"]
        print(f"{role:<8} {tested:>10} {generated:>10} {failures:>9} {errors:>7}")
        ok = ok and result["exit_code"] == 0 and not failures and not errors
        for group in result["failures"]:
            operations = ", ".join(sorted(group["operations"]))
            found.append(f"  [{role}] {group['code']} {group['title']}: {operations}")
        found += [f"  [{role}] error: {g['title']} ({g['count']}x)" for g in result["errors"]]
    if found:
        print("\nfailures (schemathesis printed a curl command that reproduces each):")
        print("\n".join(found))
    for operation, why in EXCLUDED_OPERATIONS.items():
        print(f"\nnot fuzzed: {operation} ({why})")
    return ok


def fuzz_roles(folder: Path, postgres, redis, started: float) -> dict[str, dict]:
    port = free_port()
    env, base_url = server_env(folder, postgres, redis, port, DATABASE), f"http://{HOST}:{port}"
    results = {}
    for role, email in ROLES.items():
        remaining = TIME_LIMIT_SECONDS - (time.monotonic() - started)
        if remaining <= 0:
            results[role] = {"problem": "not run: the time limit was spent"}
            continue
        reset(folder, postgres, redis)
        log = folder / "server.log"
        processes = {"gunicorn": app.gunicorn(env, port, log, extra=GUNICORN_ARGS)}
        try:
            app.wait_healthy(port, processes)
            client = Client(port)
            login = {"login": email, "password": DEMO_PASSWORD}
            reply = client.send("login", "POST", "/api/auth/login/", body=login)
            client.close()
            if reply.status != 200:  # a broken login fails here, clearly
                raise RuntimeError(f"login as {email}: {reply.summary} {reply.text}")
            print(f"\n=== {role} ({email}) ===", flush=True)
            report = folder / f"{role}.json"
            run = {"base_url": base_url, "login": email, "report": report, "timeout": remaining}
            exit_code = schemathesis_run(**run)
        finally:
            stop(processes, timeout=15)
        results[role] = role_result(exit_code, report)
    return results


def main() -> int:
    started = time.monotonic()
    folder = run_dir(*FILE_FOLDERS)
    with services(folder) as (postgres, redis):
        seed(folder, postgres, redis)
        print(f"fuzzing on loopback (private PostgreSQL and Redis); files in {folder}")
        results = fuzz_roles(folder, postgres, redis, started)
    ok = summarise(results)
    print(f"\nran in {time.monotonic() - started:.0f}s")
    if ok:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"server log (tracebacks of any 500) and reports kept in {folder}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
