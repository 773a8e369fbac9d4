"""The nginx configuration as compose renders it (nginx/templates, nginx/snippets, the NGINX_*
values of docker-compose.yml): `nginx -t`, and what e2e/ cannot see live because it runs the
template with its own ports and values: compose's body limits and HSTS switch, and rules that
must hold for every location, including ones added later."""

# Running the system's tools is what these tests are for.
# ruff: noqa: S603, S607

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deployment_files import (
    FILLED_ENV,
    ROOT,
    clean_env,
    compose_config,
    write_env_file,
)

NGINX_TEMPLATE = ROOT / "nginx" / "templates" / "default.conf.template"
NGINX_MAIN_CONF = ROOT / "nginx" / "nginx.conf"
DJANGO_PROXY = ROOT / "nginx" / "snippets" / "django_proxy.conf"
WS_PROXY = ROOT / "nginx" / "snippets" / "ws_proxy.conf"


def render_nginx_as_compose(tmp_path: Path, **env: str) -> str:
    """What the nginx image's entrypoint does: envsubst the template with the NGINX_* variables
    compose gives it (from FILLED_ENV plus `env`). Only the upstreams ("web" and "ws" resolve
    inside compose only) and the certificate paths change. Returns the rendered default.conf;
    nginx.conf, the snippets and conf.d/ are laid out in tmp_path as in the image."""
    result = compose_config(write_env_file(tmp_path / ".env", {**FILLED_ENV, **env}))
    assert result.returncode == 0, result.stderr
    variables = yaml.safe_load(result.stdout)["services"]["nginx"]["environment"]
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-nodes", "-newkey", "rsa:2048", "-days", "1"),
            *("-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    variables |= {
        "NGINX_UPSTREAM_SERVERS": "server 127.0.0.1:8000;",
        "NGINX_WS_UPSTREAM_SERVERS": "server 127.0.0.1:8001;",
        "NGINX_SSL_CERTIFICATE": str(cert),
        "NGINX_SSL_CERTIFICATE_KEY": str(key),
    }
    variables = {name: str(value) for name, value in variables.items()}
    (tmp_path / "conf.d").mkdir()
    shutil.copytree(ROOT / "nginx" / "snippets", tmp_path / "snippets")
    rendered = subprocess.run(
        ["envsubst", " ".join(f"${{{name}}}" for name in variables)],
        input=NGINX_TEMPLATE.read_text(),
        env=clean_env(**variables),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "${NGINX_" not in rendered
    (tmp_path / "conf.d" / "default.conf").write_text(rendered)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nevents {{}}\n"
        "http { include /etc/nginx/mime.types; include conf.d/*.conf; }\n"
    )
    return rendered


def _placeholders_restored(text: str) -> str:
    """The template's `${NAME}` back in place of the `$<NAME>` nginx_blocks hides them as."""
    return re.sub(r"\$<(\w+)>", r"${\1}", text)


def nginx_blocks(text: str) -> list[tuple[str, str]]:
    """(header, own directives) of every `{...}` block, nested ones left out of their parent's
    directives: `("location = /api/videos/", "client_max_body_size 520m; ...")`."""
    text = re.sub(r"#[^\n]*", "", text)
    text = re.sub(r"'[^']*'", "''", text)  # JSON bodies of `return` hold braces
    text = re.sub(r"\$\{(\w+)\}", r"$<\1>", text)  # so do the template's ${NGINX_...}
    blocks, stack, start = [], [], 0
    for index, char in enumerate(text):
        if char == "{":
            header = re.split(r"[;{}]", text[:index])[-1].strip()
            stack.append([header, ""])
            start = index + 1
        elif char == "}":
            header, own = stack.pop()
            own = " ".join((own + text[start:index]).split())
            blocks.append((_placeholders_restored(header), _placeholders_restored(own)))
            start = index + 1
        elif stack and char == ";" and index >= start:
            stack[-1][1] += text[start : index + 1]
            start = index + 1
    return blocks


needs_nginx_tools = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("docker-compose", "nginx", "envsubst")),
    reason="needs docker-compose, nginx and envsubst (make system-packages installs them)",
)


def nginx_loads(folder) -> None:
    """`nginx -t` on the configuration rendered into `folder` passes."""
    check = subprocess.run(
        ["nginx", "-t", "-p", f"{folder}/", "-c", str(folder / "nginx.conf"), "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stderr


@needs_nginx_tools
def test_nginx_configuration_rendered_with_the_compose_environment_passes_nginx_t(tmp_path):
    render_nginx_as_compose(tmp_path)
    nginx_loads(tmp_path)


@needs_nginx_tools
def test_compose_gives_nginx_body_limits_per_location_and_streams_only_video_uploads(tmp_path):
    blocks = dict(nginx_blocks(render_nginx_as_compose(tmp_path)))
    https = next(own for header, own in blocks.items() if header == "server" and "ssl_cert" in own)
    assert "client_max_body_size 6m;" in https
    assert "client_max_body_size 11m;" in blocks["location ~ ^/api/topics/[0-9]+/submissions/$"]
    videos = blocks["location = /api/videos/"]
    assert "client_max_body_size 520m;" in videos
    streamed = [header for header, own in blocks.items() if "proxy_request_buffering off" in own]
    assert streamed == ["location = /api/videos/"]


@needs_nginx_tools
@pytest.mark.parametrize("preload", ["", "false", "true"])
def test_compose_switches_hsts_preload_with_djangos_variable(tmp_path, preload):
    """Off unless the operator opts in; e2e/test_edge.py shows nginx's header for each value."""
    env = {"DJANGO_SECURE_HSTS_PRELOAD": preload} if preload else {}
    rendered = render_nginx_as_compose(tmp_path, **env)
    assert f'map "{preload or "false"}" $strict_transport_security' in rendered


def test_every_location_with_headers_of_its_own_sends_the_security_headers_too():
    """An add_header in a location drops every inherited one (nginx's own errors lost HSTS that
    way): each such block includes the shared snippet again."""
    blocks = nginx_blocks(NGINX_TEMPLATE.read_text())
    own_headers = [(header, own) for header, own in blocks if "add_header" in own]
    assert {header for header, _ in own_headers} >= {"location @throttled", "location /static/"}
    for header, own in own_headers:
        if header.startswith("location"):
            assert "include snippets/security_headers.conf;" in own, header
    https = [own for header, own in blocks if header == "server" and "ssl_certificate " in own]
    assert len(https) == 1
    assert "include snippets/security_headers.conf;" in https[0]


def test_nginx_answers_only_its_own_name_and_speaks_http2():
    blocks = nginx_blocks(NGINX_TEMPLATE.read_text())
    servers = [own for header, own in blocks if header == "server"]
    catch_all = [own for own in servers if "default_server" in own]
    assert len(catch_all) == 2
    plain, tls = sorted(catch_all, key=lambda own: "ssl" in own)
    assert "listen ${NGINX_HTTP_PORT} default_server;" in plain and "return 444;" in plain
    assert "listen ${NGINX_HTTPS_PORT} ssl http2 default_server;" in tls
    assert "ssl_reject_handshake on;" in tls and "return 444;" in tls
    named = [own for own in servers if "server_name ${NGINX_SERVER_NAME};" in own]
    assert len(named) == 2
    assert any("listen ${NGINX_HTTPS_PORT} ssl http2;" in own for own in named)


# --- The request id ------------------------------------------------------------------------------


def test_every_request_nginx_passes_to_django_carries_nginxs_request_id():
    """Set in the one proxy snippet (a client's own X-Request-ID never gets through), which every
    location that reaches gunicorn includes."""
    assert "proxy_set_header X-Request-ID $request_id;" in DJANGO_PROXY.read_text()
    assert "proxy_set_header X-Request-ID $request_id;" in WS_PROXY.read_text()
    template = re.sub(r"#[^\n]*", "", NGINX_TEMPLATE.read_text())
    assert "proxy_pass" not in template and "proxy_set_header" not in template
    proxied = [header for header, own in nginx_blocks(template) if "django_proxy.conf" in own]
    assert {"location /", "location /api/auth/", "location = /api/videos/"} <= set(proxied)
    sockets = [header for header, own in nginx_blocks(template) if "ws_proxy.conf" in own]
    assert sockets == ["location /ws/"]


def test_nginx_logs_each_requests_id_to_the_containers_output():
    conf = re.sub(r"#[^\n]*", "", NGINX_MAIN_CONF.read_text())
    log_format = re.search(r"log_format main (.*?);", conf, flags=re.S)[1]
    assert "request_id=$request_id" in log_format
    assert "$remote_addr" in log_format, "the client nginx saw"
    assert re.findall(r"access_log [^;]*;", conf) == ["access_log /var/log/nginx/access.log main;"]
    assert "include /etc/nginx/conf.d/*.conf;" in conf
    assert "access_log" not in NGINX_TEMPLATE.read_text(), "a server's own would replace it"


@needs_nginx_tools
def test_the_shipped_main_configuration_loads_the_rendered_template(tmp_path):
    """nginx/nginx.conf as the image runs it, its paths moved into tmp_path."""
    render_nginx_as_compose(tmp_path)
    conf = NGINX_MAIN_CONF.read_text()
    moves = {
        "user nginx;\n": "",  # no such user here; the image has it
        "/var/log/nginx/": f"{tmp_path}/",
        "/var/run/nginx.pid": f"{tmp_path}/nginx.pid",
        "/etc/nginx/conf.d/": f"{tmp_path}/conf.d/",
    }
    for old, new in moves.items():
        assert old in conf, old
        conf = conf.replace(old, new)
    (tmp_path / "nginx.conf").write_text(conf)
    nginx_loads(tmp_path)


# --- Chat sockets (/ws/) -------------------------------------------------------------------------


def _directives(text: str) -> set[str]:
    return {" ".join(line.split()) for line in re.sub(r"#[^\n]*", "", text).split(";")} - {""}


def test_sockets_are_proxied_to_the_ws_upstream_as_an_upgrade_with_the_proxy_headers():
    """HTTP/1.1 with Upgrade and Connection (hop-by-hop headers nginx drops unless set), the
    client, scheme and host as for Django (the Origin check and NUM_PROXIES rely on them), and
    frames passed on as they come."""
    ws = _directives(WS_PROXY.read_text())
    assert {
        "proxy_pass http://ws",
        "proxy_http_version 1.1",
        "proxy_set_header Upgrade $http_upgrade",
        "proxy_set_header Connection $connection_upgrade",
        "proxy_buffering off",
    } <= ws
    django = _directives(DJANGO_PROXY.read_text())
    forwarded = {line for line in django if line.startswith("proxy_set_header X-")}
    assert forwarded and forwarded <= ws
    assert "proxy_set_header Host $client_host" in ws & django
    blocks = nginx_blocks(NGINX_TEMPLATE.read_text())
    host = [own for header, own in blocks if header == "map $http_host $client_host"]
    assert host == ['"" $host; default $http_host;'], "the port the client named, else $host"
    upgrade = [own for header, own in blocks if header == "map $http_upgrade $connection_upgrade"]
    assert upgrade == ['default upgrade; "" close;']
    upstream = dict(blocks)["upstream ws"]
    assert upstream == "${NGINX_WS_UPSTREAM_SERVERS}", "no keepalive: upgraded connections"


def test_the_socket_location_limits_each_client_and_outwaits_the_servers_ping():
    blocks = nginx_blocks(NGINX_TEMPLATE.read_text())
    location = dict(blocks)["location /ws/"]
    assert "limit_conn ws_sockets ${NGINX_WS_CONNECTIONS_PER_CLIENT};" in location
    assert re.search(r"limit_req zone=ws_open burst=\d+ nodelay;", location)
    assert "proxy_read_timeout ${NGINX_WS_READ_TIMEOUT};" in location
    assert "proxy_send_timeout ${NGINX_WS_READ_TIMEOUT};" in location
    assert "add_header" not in location, "the server's security headers stay inherited"
    template = NGINX_TEMPLATE.read_text()
    assert "limit_conn_zone $client_key zone=ws_sockets:" in template
    assert "limit_req_zone $client_key zone=ws_open:" in template
    assert "limit_conn_status 429;" in template, "refused like every limit: 429 in the envelope"


def test_no_log_format_records_the_ticket_header():
    """The ticket travels in Sec-WebSocket-Protocol: a log format naming that header (or every
    header) would write live tickets to disk."""
    for path in (NGINX_MAIN_CONF, NGINX_TEMPLATE, WS_PROXY, DJANGO_PROXY):
        conf = re.sub(r"#[^\n]*", "", path.read_text())
        for log_format in re.findall(r"log_format\s+\w+\s+(.*?);", conf, flags=re.S):
            variables = set(re.findall(r"\$(\w+)", log_format))
            assert not {v for v in variables if "protocol" in v or "sec_websocket" in v}, path
            headers = {v for v in variables if v.startswith("http_")}
            assert headers <= {"http_referer", "http_user_agent", "http_x_forwarded_for"}, path


@needs_nginx_tools
def test_compose_gives_sockets_a_read_timeout_above_the_ping_and_a_per_client_cap(tmp_path):
    blocks = dict(nginx_blocks(render_nginx_as_compose(tmp_path)))
    location = blocks["location /ws/"]
    assert "proxy_read_timeout 75s;" in location and "proxy_send_timeout 75s;" in location
    assert "limit_conn ws_sockets 100;" in location
    (tmp_path / "short").mkdir()
    short = render_nginx_as_compose(tmp_path / "short", NGINX_WS_READ_TIMEOUT="30s")
    assert "proxy_read_timeout 30s;" in dict(nginx_blocks(short))["location /ws/"]


# --- Uploads on the object store (/protected-store/, /media-store/) -----------------------------

STORE_PROXY = ROOT / "nginx" / "snippets" / "store_proxy.conf"


def test_the_object_store_locations_send_nothing_of_the_client_and_show_nothing_of_the_store():
    """The store gets a bare GET of the object (ranges allowed): no bearer token, cookie or
    forwarded address of the client; the client gets the bytes: no S3 error body (intercepted
    into the envelope), no x-amz-* or SeaweedFS header, no file spooled to disk."""
    blocks = dict(nginx_blocks(NGINX_TEMPLATE.read_text()))
    protected, public = blocks["location /protected-store/"], blocks["location /media-store/"]
    assert "internal;" in protected and "internal;" not in public
    assert "rewrite ^/protected-store(/.*)$ $1 break;" in protected, "the presigned path, as is"
    # Inside the public bucket, whatever the path; the client's query (response-* overrides of
    # the type, a listing) never reaches the store.
    assert "rewrite ^/media-store/(.*)$ /${NGINX_PUBLIC_BUCKET}/$1? break;" in public
    assert "deny all;" in blocks["limit_except GET"]
    for own in (protected, public):
        assert 'set $object_store "${NGINX_OBJECT_STORE_URL}";' in own
        assert "include snippets/store_proxy.conf;" in own
        assert "error_page 403 404 =404 @store_not_found;" in own
        assert "error_page 416 @store_range_not_satisfiable;" in own
        assert "error_page 500 502 503 504 =503 @store_unavailable;" in own
    assert 'add_header Cache-Control "private, no-store" always;' in protected
    assert "add_header Content-Security-Policy \"default-src ''; sandbox\" always;" in public
    proxy = _directives(STORE_PROXY.read_text())
    assert {
        "proxy_pass $object_store",
        "proxy_pass_request_headers off",
        "proxy_pass_request_body off",
        "proxy_method GET",
        "proxy_max_temp_file_size 0",
        "proxy_intercept_errors on",
        "proxy_ssl_verify on",
    } <= proxy
    sent = {line.split()[1] for line in proxy if line.startswith("proxy_set_header")}
    assert sent == {"Connection", "Range", "If-Range", "If-None-Match", "If-Modified-Since"}
    hidden = {line.split()[1].lower() for line in proxy if line.startswith("proxy_hide_header")}
    assert {"x-amz-request-id", "x-amz-id-2", "seaweed-x-amz-owner", "seaweed-x-amz-etag"} <= hidden
    assert {"cache-control", "set-cookie"} <= hidden


@needs_nginx_tools
def test_compose_points_nginx_at_its_object_store_and_nginx_starts_where_it_does_not_resolve(
    tmp_path,
):
    """Compose's store is named `objectstore`, which no DNS here knows: nginx still loads (the
    name is looked up per request), so a deployment without the store starts as before."""
    rendered = render_nginx_as_compose(tmp_path)
    blocks = dict(nginx_blocks(rendered))
    assert 'set $object_store "http://objectstore:8333";' in blocks["location /protected-store/"]
    assert "rewrite ^/media-store/(.*)$ /lms-media/$1? break;" in blocks["location /media-store/"]
    assert "resolver 127.0.0.11 valid=30s;" in rendered
    nginx_loads(tmp_path)
