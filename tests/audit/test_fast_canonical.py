"""orjson (the server verifier's fast path) writes the standard library's canonical bytes, and every line
it could read otherwise goes the standard library's way: same verdicts as tools/verify_bundle.py."""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

import orjson
import pytest
from test_canonical import TRICKY

from disputes.audit.canonical import ZERO_HASH, canonical, canonical_parsed
from disputes.audit.chunks import check_chunk


def canonical_fast(value: Any) -> bytes:
    """What disputes.audit.chunks hashes for a record that orjson parsed and that holds no float."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _stdlib(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def test_orjson_writes_every_code_point_as_the_canonical_form_does() -> None:
    for start in range(0, 0x110000, 0x1000):
        text = "".join(chr(c) for c in range(start, start + 0x1000) if not 0xD800 <= c < 0xE000)
        value = {text[:40]: text, "k": [text]}
        assert orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == _stdlib(value) == canonical_fast(value)


WITHIN_64_BITS = [v for v in TRICKY if "big" not in v]


@pytest.mark.parametrize("value", [*WITHIN_64_BITS, 0, -1, 2**63 - 1, -(2**63), 2**64 - 1])
def test_orjson_writes_the_canonical_form(value: Any) -> None:
    wrapped = {"v": value, "l": [value, None, True, False, {"n": value}]}
    assert canonical_fast(wrapped) == canonical_parsed(wrapped) == canonical(wrapped) == _stdlib(wrapped)


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, 10**20])
def test_orjson_refuses_integers_beyond_64_bits_and_reads_them_as_floats(value: int) -> None:
    with pytest.raises(orjson.JSONEncodeError):
        canonical_fast({"v": value})
    assert type(orjson.loads(str(value))) is float  # so a record holding one takes the slow path


def test_keys_sort_by_code_point_under_orjson_too() -> None:
    rng = random.Random(4)
    alphabet = [
        "a",
        "B",
        "_",
        "é",
        "\u00ff",
        "\u0100",
        "\uffff",
        "\U00010000",
        "\U0010ffff",
        "花",
        "\x01",
        " ",
    ]
    for _ in range(200):
        value = {"".join(rng.choices(alphabet, k=rng.randint(0, 4))): n for n in range(rng.randint(1, 12))}
        assert canonical_fast(value) == _stdlib(value)


def _line(data: Any, position: int = 1, *, prev: str = ZERO_HASH, spaced: bool = False) -> bytes:
    record = {
        "position": position,
        "claim_id": "c1",
        "version": position,
        "type": "MessagePosted",
        "recorded_at": "2026-11-02T09:00:00Z",
        "actor": {"role": "buyer", "id": "b1"},
        "data": data,
        "prev_hash": prev,
    }
    record["hash"] = hashlib.sha256(canonical(record)).hexdigest()
    if spaced:  # the same record, not in canonical form: its hash is still that of its canonical form
        return json.dumps(record, ensure_ascii=True, indent=None).encode() + b"\n"
    return canonical(record) + b"\n"


@pytest.mark.parametrize(
    "data",
    [
        {"body": '花瓶 \u2028 \x00\x1f \\ " / \x7f 😀'},
        {"big": 10**20, "max": 2**64 - 1, "min": -(2**63), "huge": -(10**40)},
        {"nested": {"list": [[], {}, None, True, False, "12.50", 0]}},
    ],
)
@pytest.mark.parametrize("spaced", [False, True])
def test_tricky_records_verify_on_the_fast_path_or_the_slow_one(data: Any, spaced: bool) -> None:
    first = _line(data, 1, spaced=spaced)
    second = _line(data, 2, prev=json.loads(first)["hash"], spaced=spaced)

    result = check_chunk(first + second, 1, None)

    assert result.fault is None and result.count == 2


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b'{"a":1.5}', "not a JSON record on one line"),  # orjson reads it; the float must still be refused
        (b'{"a":[1e3]}', "not a JSON record on one line"),
        (b'{"a":NaN}', "not a JSON record on one line"),
        (b'"\x01"', "not a JSON record on one line"),
    ],
)
def test_floats_and_malformed_data_get_the_standard_librarys_verdict(raw: bytes, detail: str) -> None:
    line = _line({"x": 1}).replace(b'{"x":1}', raw)

    result = check_chunk(line, 1, None)

    assert result.fault is not None and result.fault.code == "bad-record" and result.fault.detail == detail


@pytest.mark.parametrize(
    ("member", "spoil"), [("hash", str.upper), ("prev_hash", str.upper), ("prev_hash", lambda h: "")]
)
@pytest.mark.parametrize("claim", [None, "c1"])
def test_a_hash_that_is_not_lowercase_hex_is_a_malformed_record_not_a_mismatch(
    member: str, spoil: Any, claim: str | None
) -> None:
    record = json.loads(_line({"x": 1}, prev="ab" * 32))
    record[member] = spoil(record[member])
    record["hash"] = (
        hashlib.sha256(canonical({k: v for k, v in record.items() if k != "hash"})).hexdigest()
        if member == "prev_hash"
        else record["hash"]
    )
    raw = canonical(record) + b"\n"

    result = check_chunk(raw, 1, claim)

    assert result.fault is not None and result.fault.code == "bad-record"
    assert result.fault.detail == f"{member} is not 64 lowercase hex digits"


def test_members_out_of_canonical_order_still_verify() -> None:
    record = json.loads(_line({"x": 1}))
    raw = json.dumps(dict(reversed(record.items())), separators=(",", ":")).encode() + b"\n"

    result = check_chunk(raw, 1, None)

    assert result.fault is None and result.count == 1 and result.last_hash == record["hash"]
