"""Where a webhook may go: https on public addresses only (unless DISPUTES_WEBHOOK_ALLOW_PRIVATE=true),
checked when subscribing and again, after resolving the name, at every delivery; the connection goes to
the address that was checked. And the signature any Standard Webhooks receiver verifies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from disputes.adapters.webhook_sender import (
    AddressRefused,
    Sender,
    parse_target,
    public_address,
    signature_headers,
)
from disputes.adapters.webhooks import new_secret
from disputes.domain.errors import InvalidValue
from support.receiver import receiving


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://172.16.5.4/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[fd00::1]/hook",
        "https://0.0.0.0/hook",
    ],
)
def test_a_private_loopback_or_link_local_address_is_refused_when_subscribing(url: str) -> None:
    with pytest.raises(AddressRefused, match="not a public address"):
        parse_target(url, allow_private=False)
    assert parse_target(url, allow_private=True).scheme == "https"


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("http://hooks.example.com/in", "must be https"),
        ("ftp://hooks.example.com/in", "must be https"),
        ("https:///in", "needs a host"),
        ("https://user:pw@hooks.example.com/in", "user name or password"),
        ("https://hooks.example.com:99999/in", "port"),
    ],
)
def test_a_url_that_is_not_plain_https_is_refused(url: str, complaint: str) -> None:
    with pytest.raises(InvalidValue, match=complaint):
        parse_target(url, allow_private=False)


def test_a_name_is_resolved_at_delivery_and_refused_if_it_points_inside() -> None:
    target = parse_target("https://localhost:8443/hook", allow_private=False)  # a name passes here
    with pytest.raises(AddressRefused, match=r"localhost resolves to 127\.0\.0\.1"):
        public_address(target, allow_private=False)
    assert public_address(target, allow_private=True) in ("127.0.0.1", "::1")


def test_a_name_that_does_not_resolve_is_refused() -> None:
    target = parse_target("https://no-such-host.invalid/hook", allow_private=False)
    with pytest.raises(AddressRefused, match="does not resolve"):
        public_address(target, allow_private=False)


def test_a_delivery_to_a_name_pointing_inside_is_refused_without_connecting() -> None:
    with receiving() as receiver:
        port = receiver.base_url.rsplit(":", 1)[1]
        sender = Sender(timeout=1, allow_private=False)
        try:
            outcome = sender.send(f"https://localhost:{port}/ok", b"{}", {})
        finally:
            sender.close()
        assert outcome.status_code is None and outcome.error is not None
        assert outcome.error.startswith("refused: localhost resolves to")
        assert receiver.attempts == {}


def test_a_delivery_connects_to_the_checked_address_and_names_the_host() -> None:
    with receiving() as receiver:
        port = receiver.base_url.rsplit(":", 1)[1]
        secret = new_secret()
        receiver.secrets["ok"] = secret
        body = b'{"specversion": "1.0", "id": "e1", "source": "/disputes", "type": "disputes.Test"}'
        headers = {"Content-Type": "application/cloudevents+json", **signature_headers(secret, "e1", body, datetime.now(UTC))}
        sender = Sender(timeout=1, allow_private=True)
        try:
            outcome = sender.send(f"http://localhost:{port}/ok", body, headers)
        finally:
            sender.close()
        assert outcome.delivered, outcome
        (got,) = receiver.on("ok")
        assert got.headers["host"] == f"localhost:{port}"


def test_the_signature_is_what_a_standard_webhooks_receiver_verifies() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    body = b'{"a": 1}'
    headers = signature_headers(secret, "msg_1", body, datetime.now(UTC))
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers) == {"a": 1}
