"""Client address behind (trusted) proxies."""

from __future__ import annotations

import ipaddress

import pytest

from safecity.web.deps import forwarded_client

LB = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32")]


@pytest.mark.parametrize(
    ("peer", "xff", "trusted", "want"),
    [
        ("127.0.0.1", "1.2.3.4", [], "127.0.0.1"),  # off by default: header ignored
        ("198.51.100.1", "1.2.3.4", LB, "198.51.100.1"),  # peer is not a proxy: header ignored
        ("10.0.0.5", "203.0.113.7", LB, "203.0.113.7"),
        ("10.0.0.5", "6.6.6.6, 203.0.113.7", LB, "203.0.113.7"),  # client-written entry never reached
        ("10.0.0.5", "203.0.113.7, 10.0.0.9", LB, "203.0.113.7"),  # two proxies in a row
        ("10.0.0.5", "not-an-ip", LB, "10.0.0.5"),
        ("10.0.0.5", "203.0.113.7, junk", LB, "10.0.0.5"),
        ("10.0.0.5", "10.0.0.7", LB, "10.0.0.7"),  # only proxies: the leftmost one
        ("10.0.0.5", "2001:db8::1", LB, "2001:db8::1"),
    ],
)
def test_forwarded_client(peer: str, xff: str, trusted: list[ipaddress.IPv4Network], want: str) -> None:
    assert forwarded_client(peer, xff, trusted) == want
