"""nginx rendered from nginx/templates as the official image renders it, with the limits
docker-compose.yml gives it and a self-signed certificate, on free high ports."""

import os
import re
import secrets
import shutil
from pathlib import Path

import yaml

from tools.app import SERVER_NAME
from tools.procs import HOST, ROOT, free_port, run, spawn

NGINX_DIR = ROOT / "nginx"
COMPOSE_FILE = ROOT / "docker-compose.yml"
MAIN_CONF = """\
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    log_format upstream '$remote_addr "$request" $status $upstream_addr';
    access_log {run}/access.log upstream;
    client_body_temp_path {run}/client_body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    include conf.d/*.conf;
}}
"""


def compose_defaults() -> dict[str, str]:
    """The NGINX_* values docker-compose.yml gives nginx from `${NAME:-default}` (body limits,
    HSTS preload), so the run gets what a deployment gets by default."""
    environment = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["nginx"]["environment"]
    return {
        name: match[1]
        for name, value in environment.items()
        if (match := re.fullmatch(r"\$\{\w+:-([^}]*)\}", str(value)))
    }


def certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for SERVER_NAME and HOST: (fullchain.pem, privkey.pem)."""
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", f"/CN={SERVER_NAME}", "-addext", f"subjectAltName=DNS:{SERVER_NAME},IP:{HOST}",
            "-keyout", str(key), "-out", str(cert),
        ]
    )  # fmt: skip
    return cert, key


def variables(
    run_dir: Path,
    upstreams: list[str],
    http_port: int,
    https_port: int,
    ws_upstreams: list[str] | None = None,
    **overrides,
):
    """Every NGINX_* value of the template for this run; `overrides` win. `ws_upstreams` are the
    ASGI servers behind /ws/; none: a port nothing listens on (a socket gets nginx's 503), as for
    the object store (NGINX_OBJECT_STORE_URL) unless given."""
    cert, key = certificate(run_dir / "nginx")
    ws_upstreams = ws_upstreams or [f"{HOST}:{free_port()}"]
    return {
        **compose_defaults(),
        "NGINX_SERVER_NAME": SERVER_NAME,
        "NGINX_HTTP_PORT": str(http_port), "NGINX_HTTPS_PORT": str(https_port),
        "NGINX_HTTPS_REDIRECT_PORT": f":{https_port}",
        # One worker killed mid-request must not take a whole instance out of rotation.
        "NGINX_UPSTREAM_SERVERS": " ".join(f"server {up} max_fails=0;" for up in upstreams),
        "NGINX_WS_UPSTREAM_SERVERS": " ".join(f"server {up} max_fails=0;" for up in ws_upstreams),
        "NGINX_SSL_CERTIFICATE": str(cert), "NGINX_SSL_CERTIFICATE_KEY": str(key),
        "NGINX_ACME_ROOT": str(run_dir / "acme"), "NGINX_STATIC_ROOT": str(run_dir / "static"),
        "NGINX_MEDIA_ROOT": str(run_dir / "media"),
        "NGINX_PROTECTED_ROOT": str(run_dir / "protected"),
        # No object store unless the run gives one: a port nothing listens on (nginx's 503).
        "NGINX_OBJECT_STORE_URL": f"http://{HOST}:{free_port()}",
        "NGINX_RESOLVER": HOST,  # unused: loopback addresses need no lookup
        # The stack passes its Django's key; nginx alone (edge_only) signs nothing it checks.
        "NGINX_MEDIA_SIGNING_KEY": secrets.token_urlsafe(50),
        **overrides,
    }  # fmt: skip


def start(conf_dir: Path, values: dict[str, str], extra_conf: str = ""):
    """Render the templates into `conf_dir` as the image's 20-envsubst-on-templates.sh does (only
    the named variables, so nginx's own $host, $uri... stay), the snippets as compose mounts
    them, plus `extra_conf` (a test's own server); check with `nginx -t` and start it."""
    (conf_dir / "conf.d").mkdir(parents=True, exist_ok=True)
    shutil.copytree(NGINX_DIR / "snippets", conf_dir / "snippets", dirs_exist_ok=True)
    names = " ".join(f"${{{name}}}" for name in values)
    for template in sorted((NGINX_DIR / "templates").glob("*.template")):
        rendered = run(
            ["envsubst", names], input=template.read_text(), env={**os.environ, **values}, text=True
        ).stdout
        (conf_dir / "conf.d" / template.name.removesuffix(".template")).write_text(rendered)
    if extra_conf:
        (conf_dir / "conf.d" / "zz-test.conf").write_text(extra_conf)
    (conf_dir / "nginx.conf").write_text(MAIN_CONF.format(run=conf_dir))
    command = ["nginx", "-p", str(conf_dir), "-c", str(conf_dir / "nginx.conf")]
    run([*command, "-t", "-q"])
    return spawn([*command, "-g", "daemon off;"])
