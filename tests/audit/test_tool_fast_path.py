"""tools/verify_bundle.py reads lines in the exporter's canonical form over their bytes, and any other line
by the standard library's parse; both ways give the same verdict for every line.

The fast way learns a line's shape from lines the parse found canonical; the lines below are each a
valid line changed in one way and given the hash of its own changed bytes (what a forger re-hashing a
non-canonical line would write), so only the parse may decide them.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from types import ModuleType

import pytest

from disputes.adapters.migrations import apply_migrations
from disputes.audit.bundle import Period, export_bundle
from disputes.audit.keys import generate_key, load_signing_key
from disputes.bootstrap import bootstrap
from disputes.settings import Settings
from support import CLAIMANT_FACTS
from support.audit import START, Clock, busy_store, load_tool

MEMBER = b'},"hash":"'


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[bytes]]:
    """The events.jsonl lines (without their newlines) of a period bundle of a busy SQLite store."""
    root = tmp_path_factory.mktemp("fast-path")
    settings = Settings(database_url=f"sqlite:///{root / 'store.sqlite'}", order_facts=CLAIMANT_FACTS)
    clock = Clock(START)
    apply_migrations(settings.database)
    container = bootstrap(settings, clock=clock)
    try:
        busy_store(container.app, clock, claims=3)
        key = load_signing_key(generate_key(root / "keys").private_path)
        period = Period(START - timedelta(days=1), START + timedelta(days=1))
        path = export_bundle(container.app, settings.database, key, root / "b.zip", period=period).path
        with zipfile.ZipFile(path) as archive:
            yield archive.read("events.jsonl").splitlines()
    finally:
        container.close()


@pytest.fixture
def tool() -> ModuleType:
    module = load_tool()
    module._shapes.clear()
    return module


def rehashed(line: bytes) -> bytes:
    """``line`` with the hash of its own bytes (without the hash member) in its hash member."""
    cut = line.rfind(MEMBER) + 2
    body = line[:cut] + line[cut + 74 :]
    return line[:cut] + b'"hash":"' + hashlib.sha256(body).hexdigest().encode() + line[cut + 72 :]


def by_parse_only(tool: ModuleType, line: bytes, n: int) -> object:
    saved = dict(tool._shapes)
    limit = tool._SHAPES_LIMIT
    try:
        tool._shapes.clear()
        tool._SHAPES_LIMIT = 0
        return tool.check_line(line, n)
    finally:
        tool._shapes.update(saved)
        tool._SHAPES_LIMIT = limit


def test_every_line_of_a_bundle_reads_the_same_over_its_bytes_as_by_the_parse(
    tool: ModuleType, lines: list[bytes]
) -> None:
    block = b"\n".join(lines) + b"\n"
    learnt = tool.check_block(block, 1)
    assert tool._shapes, "the canonical lines taught their shapes"
    plain = [n for n, line in enumerate(lines) if b"\\" not in line]
    assert 0 < len(plain) < len(lines), "the store's texts hold escapes (quotes, newlines) and plain lines"
    fast = [tool.fast_row(line) for line in lines]
    assert [n for n, row in enumerate(fast) if row is not None] == plain, "lines without escapes, read fast"
    assert learnt == tool.check_block(block, 1) == ([by_parse_only(tool, x, 1)[0] for x in lines], None)
    assert [fast[n] for n in plain] == [learnt[0][n] for n in plain]


def swap_actor_members(line: bytes) -> bytes:
    record = json.loads(line)
    actor = record["actor"]
    swapped = json.dumps(
        {"role": actor["role"], "id": actor["id"]}, separators=(",", ":"), ensure_ascii=False
    )
    start = line.index(b'{"id":')
    end = line.index(b"}", start) + 1
    return line[:start] + swapped.encode() + line[end:]


def space_after_a_colon(line: bytes) -> bytes:
    return line.replace(b'"claim_id":"', b'"claim_id": "', 1)


def duplicate_member(line: bytes) -> bytes:
    start = line.index(b'"data":{') + len(b'"data":{')
    end = line.index(b",", start)
    return line[:start] + line[start:end] + b"," + line[start:]


def zero_version(line: bytes) -> bytes:
    return line[: line.rindex(b'"version":')] + b'"version":0}'


def negative_zero_position(line: bytes) -> bytes:
    start = line.index(b'"position":') + len(b'"position":')
    end = line.index(b",", start)
    return line[:start] + b"-0" + line[end:]


def uppercase_prev_hash(line: bytes) -> bytes:
    start = line.index(b'"prev_hash":"') + len(b'"prev_hash":"')
    return line[:start] + line[start : start + 64].upper() + line[start + 64 :]


def unicode_escape(line: bytes) -> bytes:
    return line.replace(b'"type":"', b'"type":"\\u0041', 1)


def tab_in_a_string(line: bytes) -> bytes:
    return line.replace(b'"type":"', b'"type":"\t', 1)


def trailing_comma(line: bytes) -> bytes:
    return line[:-1] + b",}"


CHANGES: dict[str, Callable[[bytes], bytes]] = {
    "members out of order": swap_actor_members,
    "a space after a colon": space_after_a_colon,
    "a member twice": duplicate_member,
    "version 0": zero_version,
    "position -0": negative_zero_position,
    "an uppercase prev_hash": uppercase_prev_hash,
    "a \\u escape": unicode_escape,
    "a raw tab in a string": tab_in_a_string,
    "a trailing comma": trailing_comma,
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_non_canonical_line_with_the_hash_of_its_own_bytes_gets_the_parse_s_verdict(
    tool: ModuleType, lines: list[bytes], change: str
) -> None:
    plain = [(n, line) for n, line in enumerate(lines, 1) if b"\\" not in line]
    checked = 0
    for n, line in plain:
        changed = rehashed(CHANGES[change](line))
        if changed == line:  # 64 zeros in upper case
            continue
        checked += 1
        expected = by_parse_only(tool, changed, n + 1)
        assert expected[1] is not None, "the parse finds every such line at fault"
        block = line + b"\n" + changed + b"\n"  # the valid line first: its shape is learnt
        rows, fault = tool.check_block(block, n)
        assert tool.fast_row(line) is not None
        assert len(rows) == 1 and fault == expected[1], (change, n)
    assert checked >= len(plain) - 1
