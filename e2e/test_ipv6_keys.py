"""nginx counts an IPv6 client's limits by its /64: whoever holds one can use any of its 2^64
addresses, and must not get a fresh budget with each. IPv4 clients stay keyed by their address.

Two views: nginx itself computing $client_key for addresses given through the realip module (any
address, thousands of them, compared with the first 8 bytes of the address), and real clients on
many IPv6 addresses in a network namespace, limited by the rendered configuration."""

import http.client
import ipaddress
import json
import random
import shutil
import subprocess
import sys

import pytest

from e2e.test_edge import assert_security_headers_once
from tools.procs import HOST, ROOT, free_port
from tools.stack import Reply, edge_only

# A test-only server: the client address is taken from a header, the answer is the key.
KEY_ECHO_SERVER = """
server {{
    listen {host}:{port};
    set_real_ip_from {host};
    real_ip_header X-Test-Client;
    location / {{
        default_type application/octet-stream;
        return 200 $client_key;
    }}
}}
"""


def expected_key(address: str) -> bytes:
    ip = ipaddress.ip_address(address)
    if ip.version == 6 and ip.ipv4_mapped:
        return ip.ipv4_mapped.packed
    return ip.packed if ip.version == 4 else ip.packed[:8]


def tricky_addresses() -> list[str]:
    """Addresses whose text nginx prints in every shape: zero runs compressed in the prefix, in
    the interface part, across both, an embedded IPv4 tail, all zeros, all ones."""
    rng = random.Random(64)  # noqa: S311 # seeded: the same addresses on every run
    prefixes = [
        "2001:db8:0:0", "2001:db8:1:2", "2001:0:0:1", "fe80:0:0:0", "0:0:0:0", "2001:db8:a0a:a0a",
        "ffff:ffff:ffff:ffff", "2001:db8:0:1", "0:1:0:0",
    ]  # fmt: skip
    interfaces = [
        "0:0:0:0", "0:0:0:1", "1:0:0:1", "0:1:0:0", "ffff:ffff:ffff:ffff", "0:0:ffff:0",
        "0:0:a00:1", "a0a:a0a:a0a:a0a", "0:5efe:c000:201",
    ]  # fmt: skip
    addresses = [f"{p}:{i}" for p in prefixes for i in interfaces]
    for _ in range(300):
        prefix = ":".join(f"{rng.choice([0, 0, rng.getrandbits(16)]):x}" for _ in range(4))
        interface = ":".join(f"{rng.choice([0, 0, rng.getrandbits(16)]):x}" for _ in range(4))
        addresses.append(f"{prefix}:{interface}")
    addresses += ["::ffff:192.0.2.7", "::192.0.2.7", "192.0.2.7", "198.51.100.255", "10.0.0.10"]
    return [str(ipaddress.ip_address(address)) for address in addresses]


def test_nginx_keys_each_ipv6_client_by_its_64_and_ipv4_by_its_address():
    port = free_port()
    with edge_only(extra_conf=KEY_ECHO_SERVER.format(host=HOST, port=port)):
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        keys = {}
        try:
            for address in tricky_addresses():
                conn.request("GET", "/", headers={"X-Test-Client": address})
                response = conn.getresponse()
                assert response.status == 200
                keys[address] = response.read()
        finally:
            conn.close()
    wrong = {a: (k.hex(), expected_key(a).hex()) for a, k in keys.items() if k != expected_key(a)}
    assert not wrong
    # However its addresses are written, one /64 is one key, and two /64s are two keys.
    by_block = {}
    for address, key in keys.items():
        ip = ipaddress.ip_address(address)
        if ip.version == 6 and not ip.ipv4_mapped:
            by_block.setdefault(ipaddress.ip_network(f"{ip}/64", strict=False), set()).add(key)
    assert all(len(block_keys) == 1 for block_keys in by_block.values())
    assert len({next(iter(k)) for k in by_block.values()}) == len(by_block)
    # An IPv4-mapped address counts as the IPv4 client it is.
    assert keys["::ffff:c000:207"] == keys["192.0.2.7"]


def network_namespaces_work() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--net", "ip", "link", "set", "lo", "up"], capture_output=True, check=False
    )
    return probe.returncode == 0


def run_in_namespace(plan: list[dict]) -> list[dict]:
    result = subprocess.run(
        ["unshare", "--net", sys.executable, "-m", "e2e.netns_probe"],
        input=json.dumps(plan),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def one_block(prefix: str, count: int, rng: random.Random) -> list[str]:
    """`count` different addresses of one /64, the awkward ones first."""
    network = ipaddress.ip_network(prefix)
    first = int(network.network_address)
    awkward = [0, 1, 2**64 - 1, 2**32, 0xFFFF_0000_0000]
    chosen = awkward + [rng.getrandbits(64) for _ in range(count - len(awkward))]
    return [str(ipaddress.IPv6Address(first + interface)) for interface in chosen]


@pytest.mark.skipif(not network_namespaces_work(), reason="needs root to make a network namespace")
def test_addresses_of_one_64_share_a_budget_and_other_64s_keep_theirs():
    rng = random.Random(27)  # noqa: S311 # seeded: the same addresses on every run
    flooding = one_block("2001:db8:1:1::/64", 60, rng)
    plan = [{"method": "POST", "path": "/api/auth/login/", "source": a} for a in flooding]
    # Amid the flood, when its /64 is being refused: a client of the neighbouring /64.
    plan.insert(40, {"method": "POST", "path": "/api/auth/login/", "source": "2001:db8:1:2::1"})
    # 25 neighbours, each on a /64 of its own within one /48: no shared budget.
    neighbours = [f"2001:db8:2:{block:x}::1" for block in range(25)]
    plan += [{"method": "POST", "path": "/api/auth/login/", "source": a} for a in neighbours]
    admin = one_block("2001:db8:1:3::/64", 14, rng)
    plan += [{"method": "POST", "path": "/admin/login/", "source": a} for a in admin]

    results = run_in_namespace(plan)
    statuses = [result["status"] for result in results]
    neighbour = statuses.pop(40)
    flood, rest = statuses[:60], statuses[60:]
    # 503: passed nginx's limit (no application behind it here); 429: refused by it.
    assert set(flood) <= {503, 429}
    assert 429 not in flood[:21], flood
    assert flood.count(429) >= 30, flood
    assert flood[39] == 429, "the flood was being refused when the neighbour came"
    assert neighbour == 503, "another /64 has a budget of its own"
    assert rest[:25] == [503] * 25
    admin_statuses = rest[25:]
    assert admin_statuses[:11] == [503] * 11 and admin_statuses[11:] == [429] * 3
    for result in results:
        if result["status"] == 429:
            refused = Reply(429, [tuple(header) for header in result["headers"]], b"")
            assert refused.header("Retry-After") in ("1", "6")
            assert_security_headers_once(refused)
