"""Sending one webhook: where it may go (no private, loopback or link-local address unless allowed), and
the signed POST itself.

The host is resolved at delivery time and the connection goes to the very address that was checked
(the request names the host in ``Host`` and in TLS's SNI, and the certificate is checked against it),
so a DNS answer that changes between the check and the connection cannot send a delivery inside.
Signing is the ``standardwebhooks`` library's (the Standard Webhooks specification's reference code).

Written here rather than taken from an SSRF-guard package: the one async-only package available
checks addresses but not with a synchronous client, and the check itself is the standard library's
``ipaddress`` (``is_global``) over ``getaddrinfo``'s answers.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook

from disputes.domain.errors import DisputesError, InvalidValue

USER_AGENT = "disputes-webhooks/1"


class AddressRefused(DisputesError):
    code = "webhook-address-refused"
    title = "Webhook address refused"
    status = 422


@dataclass(frozen=True)
class Target:
    """A checked URL: what the request connects to, and what it names."""

    url: str
    host: str
    port: int
    scheme: str


def parse_target(url: str, *, allow_private: bool) -> Target:
    """The URL's parts if a subscription may name it (``https``; ``http`` too when private addresses are
    allowed, for a receiver on the same network); :class:`InvalidValue` otherwise.

    A host written as an address is checked here too; a name is checked at every delivery.
    """
    parts = urlsplit(url)
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise InvalidValue(f"a webhook URL must be {' or '.join(allowed)}, not {parts.scheme or 'schemeless'}")
    if not parts.hostname:
        raise InvalidValue("a webhook URL needs a host")
    if parts.username or parts.password:
        raise InvalidValue("a webhook URL may not carry a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidValue("a webhook URL's port must be a number from 1 to 65535") from None
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        literal = None
    if literal is not None and not allow_private and not literal.is_global:
        raise AddressRefused(f"{literal} is not a public address (DISPUTES_WEBHOOK_ALLOW_PRIVATE=true allows it)")
    return Target(url, parts.hostname, port, parts.scheme)


def public_address(target: Target, *, allow_private: bool) -> str:
    """The address to connect to: the first the host resolves to, every one of which must be public.

    Refuses (:class:`AddressRefused`) a host any of whose addresses is private, loopback, link-local,
    multicast or reserved, unless ``allow_private``; a name that does not resolve is refused too.
    """
    try:
        answers = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise AddressRefused(f"{target.host} does not resolve ({error.strerror})") from None
    addresses = list(dict.fromkeys(str(answer[4][0]) for answer in answers))
    if not addresses:
        raise AddressRefused(f"{target.host} does not resolve")
    if not allow_private:
        inside = [a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_global]
        if inside:
            raise AddressRefused(
                f"{target.host} resolves to {', '.join(inside)}, not a public address "
                "(DISPUTES_WEBHOOK_ALLOW_PRIVATE=true allows it)"
            )
    return addresses[0]


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: a status code, or why there was none."""

    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signature_headers(secret: str, message_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers of a body (``at``: the wall clock, which receivers check)."""
    moment = at.astimezone(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, moment, body.decode("utf-8")),
    }


class Sender:
    """POSTs signed bodies; one per worker thread (its connections are reused)."""

    def __init__(self, *, timeout: float, allow_private: bool) -> None:
        self.allow_private = allow_private
        self.client = httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False)

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        try:
            target = parse_target(url, allow_private=self.allow_private)
            address = public_address(target, allow_private=self.allow_private)
        except DisputesError as refused:
            return Outcome(None, f"refused: {refused.detail}")
        request_url = httpx.URL(url).copy_with(host=address)
        default_port = 443 if target.scheme == "https" else 80
        host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
        if ":" in target.host:  # an IPv6 literal
            host_header = f"[{target.host}]" if target.port == default_port else f"[{target.host}]:{target.port}"
        try:
            response = self.client.post(
                request_url,
                content=body,
                headers={**headers, "Host": host_header, "User-Agent": USER_AGENT},
                extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
            )
        except httpx.TimeoutException:
            return Outcome(None, "timed out")
        except httpx.HTTPError as error:
            return Outcome(None, f"{type(error).__name__}: {error}"[:300])
        return Outcome(response.status_code, None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}")

    def close(self) -> None:
        self.client.close()
