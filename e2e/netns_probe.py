"""Requests from many IPv6 addresses to nginx in a network namespace of their own, where all of
2001:db8::/32 is local to the loopback (run by e2e/test_ipv6_keys.py as `unshare --net python -m
e2e.netns_probe`, as root). nginx has no upstream: passed requests get its 503, refused its 429.

stdin: a JSON list of {"method", "path", "source"}; stdout: a JSON list of {"status", "headers"}.
Every connection (TLS included) opens before the first request, so what nginx's limits count is
the order of the plan, not how fast this machine makes handshakes.
"""

import http.client
import json
import socket
import subprocess
import sys
from pathlib import Path

PREFIX = "2001:db8::/32"


class LoopbackV6Connection(http.client.HTTPSConnection):
    """HTTPS to nginx on [::1] from `source`, with SNI and certificate check for the stack's
    name (which may resolve to 127.0.0.1 only)."""

    def __init__(self, port: int, context, source: str, server_name: str):
        super().__init__(server_name, port, timeout=10, context=context)
        self.v6_source = source

    def connect(self):
        raw = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        raw.settimeout(self.timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as http.client does
        raw.bind((self.v6_source, 0))
        raw.connect(("::1", self.port))
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def network_up() -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "-6", "route", "add", "local", PREFIX, "dev", "lo"], check=True)
    Path("/proc/sys/net/ipv6/ip_nonlocal_bind").write_text("1\n")


def main() -> int:
    plan = json.load(sys.stdin)
    network_up()
    from tools.app import SERVER_NAME
    from tools.stack import edge_only

    results = []
    with edge_only() as nginx:
        context = nginx.ssl_context()
        connections = [
            LoopbackV6Connection(nginx.https_port, context, step["source"], SERVER_NAME)
            for step in plan
        ]
        try:
            for conn in connections:
                conn.connect()
            for step, conn in zip(plan, connections, strict=True):
                conn.request(step["method"], step["path"], body=b"{}")
                response = conn.getresponse()
                response.read()
                results.append({"status": response.status, "headers": response.getheaders()})
        finally:
            for conn in connections:
                conn.close()
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
