"""The client a rate limit counts: an IPv4 address, or the /64 network of an IPv6 one.

Anyone holding an IPv6 /64 (one home or one cloud VM) can use 2**64 addresses: counting full
addresses would let them rotate past every limit. nginx keys its `limit_req` the same way."""

import ipaddress

IPV6_PREFIX = 64


def rate_limit_ident(address: str | None) -> str:
    if not address:
        return ""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address  # not an address (a proxy's odd header): counted as given
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)
