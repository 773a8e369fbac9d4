"""Only our host name is served: another Host header or SNI name, or a bare IP address, gets no
redirect, no certificate and no request through to Django; the ACME challenge stays answered."""

import http.client
import socket
import ssl

import pytest

from tools.app import SERVER_NAME
from tools.procs import HOST

FOREIGN_HOSTS = ["evil.example", HOST, "localhost.evil.example"]


def plain_http(edge, host: str, path: str = "/api/health/") -> http.client.HTTPResponse | None:
    """GET over HTTP with this Host; None if nginx closed the connection without answering."""
    conn = http.client.HTTPConnection(HOST, edge.http_port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host})
        response = conn.getresponse()
        response.read()
        return response
    except (http.client.RemoteDisconnected, ConnectionResetError):
        return None
    finally:
        conn.close()


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_http_with_a_foreign_host_is_dropped_without_a_redirect(edge, host):
    assert plain_http(edge, host) is None


def test_http_with_our_host_still_redirects(edge):
    response = plain_http(edge, f"{SERVER_NAME}:{edge.http_port}")
    assert response is not None and response.status == 301
    assert response.getheader("Location") == f"{edge.base_url}/api/health/"


@pytest.mark.parametrize("server_name", ["evil.example", None])
def test_tls_handshake_for_a_foreign_or_missing_sni_is_refused(edge, server_name):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # whatever certificate came back, there must be none
    with (
        socket.create_connection((HOST, edge.https_port), timeout=10) as raw,
        pytest.raises(ssl.SSLError, match=r"(?i)unrecognized.name"),
    ):
        context.wrap_socket(raw, server_hostname=server_name)


def test_our_sni_with_a_foreign_host_header_never_reaches_django(edge):
    context = edge.ssl_context()
    conn = http.client.HTTPSConnection(SERVER_NAME, edge.https_port, timeout=10, context=context)
    try:
        conn.request("GET", "/api/health/", headers={"Host": "evil.example"})
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            conn.getresponse()
    finally:
        conn.close()
    # Django would have logged a DisallowedHost for it.
    assert "evil.example" not in edge.gunicorn_log()


def test_acme_challenge_for_our_name_is_still_answered(edge):
    challenge = edge.run_dir / "acme" / ".well-known" / "acme-challenge"
    challenge.mkdir(parents=True, exist_ok=True)
    (challenge / "token-hosts").write_text("token-hosts.key")
    path = "/.well-known/acme-challenge/token-hosts"
    response = plain_http(edge, SERVER_NAME, path)
    assert response is not None and response.status == 200
    # For another name the challenge folder is not there either.
    assert plain_http(edge, "evil.example", path) is None
