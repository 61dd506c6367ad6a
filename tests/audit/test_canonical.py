"""Canonical JSON and the record hash: the format's fixed points, pinned, and shared by both verifiers."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from disputes.application.records import EventRecord
from disputes.audit.canonical import ZERO_HASH, canonical, canonical_parsed, chain_record, record_hash
from disputes.domain.parties import Actor, Role
from support.audit import load_tool

TRICKY: list[Any] = [
    {"b": 1, "a": {"d": [1, 2, {"z": None, "y": True}], "c": "x"}},
    {"text": 'quote " backslash \\ slash / tab \t newline \n nul \u0000 bell \u0007 del \u007f'},
    {"unicode": "花瓶 — café ü 😀 \u2028 \u2029", "é": "key not ascii", "Z": "upper before lower"},
    {"amount": "12.50", "big": 10**20, "neg": -3, "empty": {}, "list": []},
]

RECORD = EventRecord(
    claim_id="7c56f2b1-dcee-4d1a-b357-9a387335c434",
    version=2,
    type="MerchantResponded",
    recorded_at=datetime(2026, 11, 2, 10, 0, 0, 123456, tzinfo=UTC),
    actor=Actor(Role.MERCHANT, "m1"),
    data={"amount": {"amount": "50.00", "currency": "CNY"}, "decision": "offer", "message": "一半？"},
)


def test_canonical_json_sorts_keys_has_no_spaces_and_keeps_unicode_as_utf8() -> None:
    assert (
        canonical({"b": 1, "a": [1, {"d": "é", "c": None}]}) == '{"a":[1,{"c":null,"d":"é"}],"b":1}'.encode()
    )


def test_control_characters_are_escaped_the_short_way_where_json_has_one() -> None:
    assert canonical({"s": '\n\t\u0001"\\'}) == b'{"s":"\\n\\t\\u0001\\"\\\\"}'


@pytest.mark.parametrize("value", [1.5, {"a": [0.1]}, float("nan")])
def test_floats_are_refused(value: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        canonical(value)


def test_the_record_hash_is_sha256_of_the_canonical_record_without_its_hash() -> None:
    record = chain_record(17, RECORD, ZERO_HASH)

    body = {k: v for k, v in record.items() if k != "hash"}
    assert set(body) == {
        "position",
        "claim_id",
        "version",
        "type",
        "recorded_at",
        "actor",
        "data",
        "prev_hash",
    }
    assert record["hash"] == hashlib.sha256(canonical(body)).hexdigest() == record_hash(record)


def test_the_hash_is_a_pure_function_of_the_decoded_record() -> None:
    """Pinned: the same record hashes the same on every store, every run, every machine."""
    record = chain_record(17, RECORD, ZERO_HASH)

    assert record == chain_record(17, RECORD, ZERO_HASH)
    assert (
        canonical({k: v for k, v in record.items() if k != "hash"})
        == (
            '{"actor":{"id":"m1","role":"merchant"},"claim_id":"7c56f2b1-dcee-4d1a-b357-9a387335c434",'
            '"data":{"amount":{"amount":"50.00","currency":"CNY"},"decision":"offer","message":"一半？"},'
            '"position":17,"prev_hash":"' + ZERO_HASH + '","recorded_at":"2026-11-02T10:00:00.123456Z",'
            '"type":"MerchantResponded","version":2}'
        ).encode()
    )
    assert record["hash"] == "f2a8d455be9640b503f38bed602006aaf24591d13f81ec2b8640aaae876de933"


def test_each_hash_depends_on_the_one_before() -> None:
    first = chain_record(1, RECORD, ZERO_HASH)
    second = chain_record(2, RECORD, first["hash"])

    assert second["prev_hash"] == first["hash"]
    assert second["hash"] != chain_record(2, RECORD, ZERO_HASH)["hash"]


@pytest.mark.parametrize("value", TRICKY)
def test_the_standalone_verifier_canonicalises_exactly_as_the_server(value: Any) -> None:
    tool = load_tool()

    assert tool.canonical(value) == canonical(value) == canonical_parsed(value)
