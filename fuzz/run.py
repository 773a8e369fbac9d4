"""`make fuzz`: schemathesis against the project's own OpenAPI schema on a live loopback server,
once per role (student, tutor, staff), failing on any 5xx or any response the schema does not
describe. fuzz/README.md explains the choices (settings, exclusions, bounds).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from live_server import live_server

DEMO_PASSWORD = "demo-pass-1234"  # noqa: S105 (the demo accounts of `manage.py seed_demo`)
# student2 is the demo buyer: an order, a payment, a receipt and an enrollment exist for it.
ROLES = {
    "student": "student2@example.com",
    "tutor": "tutor@example.com",
    "staff": "admin@example.com",
}
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
# schemathesis reports failures by code; the check that raises each.
CHECK_OF_CODE = {
    "ST101": "not_a_server_error",
    "ST102": "not_a_server_error",
    "ST103": "status_code_conformance",
    "ST104": "content_type_conformance",
    "ST105": "content_type_conformance",
    "ST106": "content_type_conformance",
    "ST107": "response_headers_conformance",
    "ST108": "response_schema_conformance",
    "ST109": "response_schema_conformance",
    "ST110": "response_schema_conformance",
    "ST111": "response_schema_conformance",
}
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


def schemathesis_run(*, base_url: str, login: str, report: Path, timeout: float) -> int | None:
    """One role's run, its JSON report written to `report`; None when it overran `timeout`."""
    command = [
        SCHEMATHESIS, "--no-color", f"--config-file={CONFIG}", "run",
        f"{base_url}/api/schema/?format=json",
        f"--url={base_url}",
        f"--checks={','.join(CHECKS)}",
        # Schema examples, boundary and invalid values, random data, then chains of calls along
        # the links schemathesis infers (POST /api/polls/ -> GET /api/polls/{poll_id}/).
        "--phases=examples,coverage,fuzzing,stateful",
        f"--max-examples={MAX_EXAMPLES}",
        # Hypothesis derandomised: the same schema and data give the same requests every run.
        "--generation-deterministic",
        f"--workers={WORKERS}",
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
    """Print the table per role and the failures by check; True when everything passed."""
    print("\n=== make fuzz: summary ===")
    print(f"{'role':<8} {'operations':>10} {'test cases':>10} {'failures':>9} {'errors':>7}")
    ok = True
    by_check: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for role, result in results.items():
        if "problem" in result:
            print(f"{role:<8} {result['problem']}")
            ok = False
            continue
        failures = sum(group["count"] for group in result["failures"])
        errors = sum(group["count"] for group in result["errors"])
        tested = (result["operations"] or {}).get("tested", 0)
        print(
            f"{role:<8} {tested:>10} {result['test_cases']['generated']:>10} "
            f"{failures:>9} {errors:>7}"
        )
        ok = ok and result["exit_code"] == 0 and not failures and not errors
        for group in result["failures"]:
            check = CHECK_OF_CODE.get(group["code"], group["code"])
            label = f"{check}: {group['title']} ({group['code']})"
            by_check[label][role].update(group["operations"])
        for group in result["errors"]:
            by_check[f"error: {group['title']}"][role].add(f"{group['count']} time(s)")
    if by_check:
        print("\nfailures by check:")
    for label, roles in sorted(by_check.items()):
        print(f"  {label}")
        for role, operations in roles.items():
            for operation in sorted(operations):
                print(f"    [{role}] {operation}")
    for operation, why in EXCLUDED_OPERATIONS.items():
        print(f"\nnot fuzzed: {operation} ({why})")
    return ok


def main() -> int:
    started = time.monotonic()
    run_dir = Path(tempfile.mkdtemp(prefix="lms-fuzz-"))
    results: dict[str, dict] = {}
    with live_server(run_dir) as server:
        print(f"fuzzing {server.base_url} (database {server.database}); files in {run_dir}")
        for role, email in ROLES.items():
            remaining = TIME_LIMIT_SECONDS - (time.monotonic() - started)
            if remaining <= 0:
                results[role] = {"problem": "not run: the time limit was spent"}
                continue
            server.reset()
            server.start()
            try:
                server.access_token(email, DEMO_PASSWORD)  # a broken login fails here, clearly
                print(f"\n=== {role} ({email}) ===", flush=True)
                report = run_dir / f"{role}.json"
                exit_code = schemathesis_run(
                    base_url=server.base_url, login=email, report=report, timeout=remaining
                )
            finally:
                server.stop()
            results[role] = role_result(exit_code, report)
    ok = summarise(results)
    print(f"\nran in {time.monotonic() - started:.0f}s")
    if ok:
        shutil.rmtree(run_dir, ignore_errors=True)
    else:
        print(f"server log (tracebacks of any 500) and reports kept in {run_dir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
