"""Where webhook deliveries may go, whatever way a host is written."""

from __future__ import annotations

import socket

import pytest

from server.core.egress import TargetPolicy, TargetRefused, check_host, resolve

LOOPBACK = [
    "localhost",
    "LOCALHOST.",
    "api.localhost",
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "::1",
    "::ffff:127.0.0.1",
    "127.255.255.254",
]
INTERNAL = [
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",
    "fd00:ec2::254",
    "fe80::1",
    "0",
    "0.0.0.0",
    "224.0.0.1",
    "ff02::1",
    "240.0.0.1",
    "::ffff:10.1.2.3",
    "metadata.google.internal",
    "db.internal",
    "printer.local",
    "0xa9fea9fe",
    "2852039166",
    # IPv6 forms that reach a private or loopback IPv4 address, or no public host.
    "::7f00:1",  # IPv4-compatible 127.0.0.1
    "::a00:1",  # IPv4-compatible 10.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2002:a00:1::",  # 6to4 of 10.0.0.1
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "fec0::1",  # site-local
    "::",
]
PUBLIC = [
    "example.com",
    "hooks.platform.example",
    "93.184.216.34",
    "2606:4700::6810:85e5",
    "64:ff9b::5db8:d822",  # NAT64 of 93.184.216.34
    "2002:5db8:d822::1",  # 6to4 of 93.184.216.34
]


@pytest.mark.parametrize("host", INTERNAL)
@pytest.mark.parametrize("policy", [TargetPolicy.DENY, TargetPolicy.LOOPBACK])
def test_internal_hosts_are_refused_unless_allowed(host, policy):
    with pytest.raises(TargetRefused):
        check_host(host, policy)
    check_host(host, TargetPolicy.ALLOW)


@pytest.mark.parametrize("host", LOOPBACK)
def test_this_machine_is_refused_by_deny_only(host):
    with pytest.raises(TargetRefused):
        check_host(host, TargetPolicy.DENY)
    check_host(host, TargetPolicy.LOOPBACK)
    check_host(host, TargetPolicy.ALLOW)


@pytest.mark.parametrize("host", PUBLIC)
@pytest.mark.parametrize("policy", list(TargetPolicy))
def test_public_hosts_are_allowed(host, policy):
    check_host(host, policy)


def test_a_name_is_checked_by_every_address_it_resolves_to(monkeypatch):
    answers = {"rebind.example": ["93.184.216.34", "10.0.0.7"], "fine.example": ["93.184.216.34"]}

    def fake_getaddrinfo(host, port, type=0):
        return [(socket.AF_INET, type, 6, "", (a, port)) for a in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    assert resolve("fine.example", 443, TargetPolicy.LOOPBACK) == "93.184.216.34"
    with pytest.raises(TargetRefused, match=r"10\.0\.0\.7"):
        resolve("rebind.example", 443, TargetPolicy.LOOPBACK)


@pytest.mark.parametrize(
    ("host", "address"),
    [("127.1", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("::1", "::1"), ("8.8.8.8", "8.8.8.8")],
)
def test_an_address_as_written_is_connected_to_without_a_lookup(monkeypatch, host, address):
    def no_lookup(*_args, **_kwargs):
        raise AssertionError("an address literal was looked up")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    assert resolve(host, 80, TargetPolicy.LOOPBACK) == address
    if address != "8.8.8.8":
        with pytest.raises(TargetRefused):
            resolve(host, 80, TargetPolicy.DENY)
