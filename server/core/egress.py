"""Where the server may send requests of its own (webhook deliveries): never into the network
it runs in, whatever way a host is written, unless a setting allows it.

A target is checked twice: its host as written, when an endpoint is created or changed, and
every address its name resolves to, when a delivery connects; the delivery then connects to
the address it checked, so that a name that resolves elsewhere the second time (DNS rebinding)
gets no further.
"""

from __future__ import annotations

import ipaddress
import socket
from enum import StrEnum

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetPolicy(StrEnum):
    DENY = "deny"  # public addresses only: a server others can reach
    LOOPBACK = "loopback"  # and this machine's own: a developer's local receiver
    ALLOW = "allow"  # anything: a private network whose receivers are trusted


# Names that stand for this machine or for a cloud's internal services, whatever they resolve
# to where the check runs.
_LOOPBACK_NAMES = ("localhost",)
_INTERNAL_NAMES = ("metadata", "metadata.google.internal", "instance-data")
_INTERNAL_SUFFIXES = (".internal", ".local", ".localdomain", ".intranet", ".corp", ".lan")


class TargetRefused(Exception):
    """The target is inside the network the server runs in."""


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP literal names, in any spelling a resolver accepts:
    `127.0.0.1`, `127.1`, `2130706433`, `0x7f000001`, `0177.0.0.1`, `::1`, `::ffff:127.0.0.1`."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def check_address(address: IPAddress, policy: TargetPolicy) -> None:
    """TargetRefused unless the policy lets requests go to `address`."""
    if policy is TargetPolicy.ALLOW:
        return
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        if policy is TargetPolicy.LOOPBACK:
            return
        raise TargetRefused(f"{address} is a loopback address")
    if isinstance(address, ipaddress.IPv6Address):
        _check_ipv6_forms(address)
    if not address.is_global or address.is_multicast:
        raise TargetRefused(
            f"{address} is a private, link-local, shared, multicast or reserved address"
        )


# NAT64's well-known prefix: a translator's IPv6 form of any IPv4 address, in its last 32 bits.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _check_ipv6_forms(address: ipaddress.IPv6Address) -> None:
    """TargetRefused for an IPv6 address that reaches an IPv4 one that is not public (6to4, a
    NAT64 translation, the deprecated IPv4-compatible form), or that no public host has (a
    reserved or site-local address). A NAT64 form of a public IPv4 address is public."""
    embedded = address.sixtofour
    if address in _NAT64:
        embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if embedded is not None:
        if not embedded.is_global:
            raise TargetRefused(f"{address} reaches {embedded}, which is not a public address")
        return
    if address.is_reserved or address.is_site_local:
        raise TargetRefused(f"{address} is a reserved or site-local address")


def check_host(host: str, policy: TargetPolicy) -> None:
    """TargetRefused unless the policy lets requests go to `host` as written (a name that
    resolves inside the network is caught when a delivery resolves it)."""
    if policy is TargetPolicy.ALLOW:
        return
    name = host.lower().rstrip(".")
    address = literal_address(name)
    if address is not None:
        check_address(address, policy)
    elif name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        if policy is not TargetPolicy.LOOPBACK:
            raise TargetRefused(f"{host} names this machine")
    elif name in _INTERNAL_NAMES or name.endswith(_INTERNAL_SUFFIXES):
        raise TargetRefused(f"{host} names an internal host")


def resolve(host: str, port: int, policy: TargetPolicy) -> str:
    """The address to connect to for `host`: resolved once, every answer checked (one inside
    the network refuses them all); TargetRefused, or OSError when the name does not resolve."""
    check_host(host, policy)
    literal = literal_address(host.lower().rstrip("."))
    if literal is not None:  # checked as written: there is nothing to look up
        return str(literal)
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # str(): typeshed allows an int host for other families; TCP/IP answers carry a str.
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in answers]
    for address in addresses:
        check_address(address, policy)
    return str(addresses[0])
