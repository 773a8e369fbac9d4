"""Headless Chromium for the browser tests: finding it, trusting the stack's certificate by its
key alone, serving a test page over HTTPS from a thread, and starting the browser on a page."""

import base64
import contextlib
import hashlib
import http.server
import os
import shutil
import signal
import ssl
import subprocess
import threading
from pathlib import Path

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
