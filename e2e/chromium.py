"""Headless Chromium for the browser tests: finding it, trusting the stack's certificate by its
key alone, serving a test page over HTTPS from a thread, and starting the browser on a page."""

import base64
import contextlib
import hashlib
import http.server
import json
import os
import queue
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tools.procs import HOST


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip("no Chromium on PATH")


def certificate_spki(certificate: Path) -> str:
    """The base64 SHA-256 of the certificate's public key: Chromium trusts that key alone instead
    of ignoring every certificate error."""
    pem = ["openssl", "x509", "-in", str(certificate), "-noout", "-pubkey"]
    public_key = subprocess.run(pem, check=True, capture_output=True).stdout
    der = ["openssl", "pkey", "-pubin", "-outform", "DER"]
    der_key = subprocess.run(der, input=public_key, check=True, capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der_key).digest()).decode()


@contextlib.contextmanager
def serve(handler: type[http.server.BaseHTTPRequestHandler], port: int, certificate: Path | None):
    """`handler` on HOST:`port` from a thread while the block runs; HTTPS with the stack's
    certificate (it names localhost and 127.0.0.1) unless `certificate` is None."""
    server = http.server.ThreadingHTTPServer((HOST, port), handler)
    server.block_on_close = False  # an idle keep-alive connection must not hold up the teardown
    if certificate is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, certificate.with_name("privkey.pem"))
        # Handshakes then happen in each connection's thread, not in the accepting loop.
        server.socket = context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def command(chromium: str, *, profile: Path, spki: str, url: str, extra: tuple = ()) -> list:
    return [
        chromium,
        "--headless=new",
        "--no-sandbox",  # the sandbox refuses to start as root, as in containers and CI
        "--disable-gpu",
        "--disable-background-networking",  # nothing but the page talks to the network
        "--no-first-run",
        f"--user-data-dir={profile}",
        f"--ignore-certificate-errors-spki-list={spki}",
        *extra,
        url,
    ]


def start(command: list, *, stdout=subprocess.PIPE) -> subprocess.Popen:
    """In a session of its own, so the renderer and helper processes can be ended with it
    (`end`)."""
    return subprocess.Popen(
        command, stdout=stdout, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def end(browser: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(browser.pid, signal.SIGKILL)


@contextlib.contextmanager
def reporting_page(page: bytes, page_path: str, port: int, certificate: Path | None):
    """Serve `page` at `page_path` on HOST:`port` (see `serve`); yields a queue that gets the JSON
    the page POSTs to /result."""
    results: queue.Queue = queue.Queue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if urlsplit(self.path).path != page_path:
                self.send_error(404)
                return
            self._answer(200, "text/html; charset=utf-8", page)

        def do_POST(self):
            if self.path != "/result":
                self.send_error(404)
                return
            results.put(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self._answer(204, "text/plain", b"")

        def _answer(self, status: int, content_type: str, body: bytes):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            pass

    with serve(Handler, port, certificate):
        yield results


def page_report(chromium: str, spki: str, url: str, results: queue.Queue, *, timeout: float,
                extra: tuple = ()) -> dict:  # fmt: skip
    """Open `url` in a fresh headless Chromium until the page reports (it stays open till then)."""
    with tempfile.TemporaryDirectory(prefix="lms-e2e-chromium-", ignore_cleanup_errors=True) as tmp:
        arguments = command(chromium, profile=Path(tmp), spki=spki, url=url, extra=extra)
        browser = start(arguments, stdout=subprocess.DEVNULL)
        try:
            return results.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the page reported nothing in {timeout} s") from None
        finally:
            end(browser)
            browser.communicate()
