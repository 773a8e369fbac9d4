"""Rate limits count IPv4 addresses, and IPv6 clients by their /64 network."""

import pytest

from core.client_ip import rate_limit_ident


@pytest.mark.parametrize(
    ("address", "ident"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:0:0:0:9", "2001:db8:1:2::/64"),  # any spelling of the same network
        ("2001:db8::1", "2001:db8::/64"),
        ("2001:db8:0:0:1::", "2001:db8::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),  # IPv4-mapped: the IPv4 client
        ("", ""),
        ("not-an-address", "not-an-address"),
    ],
)
def test_rate_limit_ident(address, ident):
    assert rate_limit_ident(address) == ident


def test_a_whole_64_is_one_client():
    idents = {rate_limit_ident(f"2001:db8:aa:bb:{n:x}::{n:x}") for n in range(1, 500)}
    assert idents == {"2001:db8:aa:bb::/64"}
