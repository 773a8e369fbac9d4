"""A pytest plugin (root conftest): every error the test suite sees an API answer must be
documented for its operation in the OpenAPI schema, with its status and its code in the enum.

The suite provokes far more errors than the fuzzer finds, so a rule raised by a service but not
declared with `core.openapi.errors_of` on the view fails the run. Each process records what it
saw (`route, method, status, code`) in a file of the run's directory; the process that ends the
run (the only one, or xdist's controller) reads them all and checks them against the schema.
"""

import json
import os
import tempfile
from pathlib import Path

import pytest

from core.testing import documented_error_codes, openapi_path

_seen: set[tuple[str, str, int, str]] = set()
# Statuses the schema does not list on purpose: DRF's answer to a method the view lacks.
UNDOCUMENTED_STATUSES = {405}


def _run_directory(config) -> Path:
    worker = getattr(config, "workerinput", None)
    run = worker["error_contract_run"] if worker else config._error_contract_run
    return Path(tempfile.gettempdir()) / f"error-contract-{run}"


def pytest_configure(config):
    if not hasattr(config, "workerinput"):
        config._error_contract_run = os.urandom(8).hex()
    from rest_framework.views import APIView

    finalize_response = APIView.finalize_response
    log = _run_directory(config) / f"{os.getpid()}.jsonl"

    def recording_finalize_response(self, request, response, *args, **kwargs):
        response = finalize_response(self, request, response, *args, **kwargs)
        data = getattr(response, "data", None)
        match = getattr(request, "resolver_match", None)
        if response.status_code >= 400 and isinstance(data, dict) and match is not None:
            code = (data.get("error") or {}).get("code")
            entry = (openapi_path(match.route), request.method, response.status_code, str(code))
            if code and entry not in _seen:
                _seen.add(entry)
                log.parent.mkdir(exist_ok=True)
                with log.open("a") as file:
                    file.write(json.dumps(entry) + "\n")
        return response

    # Every view's responses pass through the recorder, for the whole run.
    APIView.finalize_response = recording_finalize_response  # type: ignore[method-assign]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist: the workers write where the controller reads."""
    node.workerinput["error_contract_run"] = node.config._error_contract_run


def _documented_codes(response: dict) -> list[str]:
    try:
        return documented_error_codes(response)
    except (KeyError, ValueError, AssertionError):
        return []  # not the envelope with an enum: an error response must name its codes


def undocumented_errors(entries, schema: dict) -> list[str]:
    problems = []
    for path, method, status_code, code in sorted(entries):
        operation = schema["paths"].get(path, {}).get(method.lower())
        if operation is None or status_code in UNDOCUMENTED_STATUSES or status_code >= 500:
            continue  # a test-only route, or a crash the suite provokes on purpose
        response = operation["responses"].get(str(status_code))
        if response is None:
            problems.append(f"{method} {path}: status {status_code} ({code}) is not documented")
            continue
        codes = _documented_codes(response)
        if code not in codes:
            problems.append(f"{method} {path} {status_code}: `{code}` is not in {codes}")
    return problems


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput"):
        return
    directory = _run_directory(session.config)
    entries: set[tuple[str, str, int, str]] = set()
    for log in directory.glob("*.jsonl") if directory.exists() else ():
        entries.update(tuple(json.loads(line)) for line in log.read_text().splitlines())
        log.unlink()
    if directory.exists():
        directory.rmdir()
    if not entries:
        return
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    problems = undocumented_errors(entries, schema)
    if problems:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.write_sep("=", "errors answered but not in the OpenAPI schema", red=True)
        for problem in problems:
            reporter.write_line(problem)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
