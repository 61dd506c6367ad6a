"""events.jsonl checked in chunks of lines, so that several processes can share a large bundle.

A chunk is checked on its own as far as it can be: each record's form and hash, and the links,
positions and versions between records inside the chunk. What joins a chunk to the ones before it
(its first record's link and position, the first version of each claim it holds) is left to
:class:`Merge`, which sees the chunks in file order. Every fault carries its line and the stage of the
check (form, hash, link, position, version), so the first fault of the file is the same as checking
line by line from the top, as ``tools/verify_bundle.py`` does.

Each line is parsed with orjson and hashed over orjson's canonical bytes when that is sure to give what
the standard library gives: orjson parsed the line into a well-formed record and its ``data`` holds no
float (orjson reads integers beyond 64 bits as floats too). Any other line (a fault, a float, a huge
integer, a lone surrogate escape that orjson refuses) takes the standard library's path, whose verdict
and message are those of ``tools/verify_bundle.py``.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from disputes.audit.canonical import canonical_parsed, reject_float
from disputes.audit.format import EVENTS, RECORD_FIELDS

RECORD_KEYS = frozenset(RECORD_FIELDS)
ACTOR_KEYS = frozenset({"role", "id"})
_HEX_DIGITS = "0123456789abcdef"
_hex64 = re.compile("[0-9a-f]{64}").fullmatch
_scan = json.JSONDecoder(parse_float=reject_float, parse_constant=reject_float).scan_once  # type: ignore[attr-defined]
_WHITESPACE = re.compile(r"[ \t\n\r]*")

FORM, HASH, LINK, POSITION, VERSION = range(5)


@dataclass(frozen=True, order=True)
class LineFault:
    line: int
    stage: int
    code: str
    where: str
    detail: str


@dataclass
class ChunkResult:
    count: int = 0
    fault: LineFault | None = None
    first_prev_hash: str | None = None
    first_position: int = 0
    last_hash: str = ""
    last_position: int = 0
    claims: dict[str, list[int]] = field(default_factory=dict)
    """claim -> [events, first_version, last_version, first_position, last_position, first_line]"""


def _where(line: int, position: int | None = None) -> str:
    return f"{EVENTS} line {line}" if position is None else f"{EVENTS} line {line} (position {position})"


def _parse(raw: bytes, line: int) -> dict[str, Any] | LineFault:
    try:
        text = raw.decode("utf-8")
        start = 0 if text[:1] == "{" else _WHITESPACE.match(text, 0).end()  # type: ignore[union-attr]
        rec, end = _scan(text, start)
        if end != len(text) and _WHITESPACE.match(text, end).end() != len(text):  # type: ignore[union-attr]
            raise ValueError("extra data")
    except (UnicodeDecodeError, ValueError, StopIteration):
        return LineFault(line, FORM, "bad-record", _where(line), "not a JSON record on one line")
    if not isinstance(rec, dict):
        return LineFault(line, FORM, "bad-record", _where(line), "not a JSON object")
    if not _well_formed(rec):
        return LineFault(line, FORM, "bad-record", _where(line), _shape_problem(rec))
    return rec


_SORTED_FIELDS = tuple(sorted(RECORD_FIELDS))
_SORTED_TYPES = tuple(
    {"actor": dict, "data": dict, "position": int, "version": int}.get(name, str) for name in _SORTED_FIELDS
)
_ACTOR_FIELDS = tuple(sorted(ACTOR_KEYS))


def _has_float(value: Any) -> bool:
    """Whether a dict or list parsed by orjson holds a float anywhere (orjson has no hook to refuse them)."""
    for item in value.values() if type(value) is dict else value:
        kind = type(item)
        if kind is not str and (kind is float or ((kind is dict or kind is list) and _has_float(item))):
            return True
    return False


def _canonical_form(rec: Any) -> bool:
    """Most of :func:`_well_formed`, and no float, for a record parsed by orjson in canonical member order.

    Mostly C-level comparisons of the members' names and types. ``hash`` and ``prev_hash`` are only
    known to be strings here: the caller settles them (a hash that matches the digest is 64 hex digits;
    a prev_hash equal to the hash before it too). Anything else goes the standard library's way.
    """
    if (
        type(rec) is not dict
        or tuple(rec) != _SORTED_FIELDS
        or tuple(map(type, rec.values())) != _SORTED_TYPES
    ):
        return False
    actor = rec["actor"]
    return (
        rec["position"] > 0
        and rec["version"] > 0
        and tuple(actor) == _ACTOR_FIELDS
        and type(actor["id"]) is str
        and type(actor["role"]) is str
        and not _has_float(rec["data"])
    )


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and not value.strip(_HEX_DIGITS)


def _well_formed(rec: dict[str, Any], hex_digits: str = _HEX_DIGITS) -> bool:
    """The fast test; :func:`_shape_problem` says what is wrong when it fails."""
    actor = rec.get("actor")
    prev_hash, own_hash = rec.get("prev_hash"), rec.get("hash")
    return (
        rec.keys() == RECORD_KEYS
        and type(rec["position"]) is int
        and type(rec["version"]) is int
        and rec["position"] > 0
        and rec["version"] > 0
        and type(rec["claim_id"]) is str
        and type(rec["type"]) is str
        and type(rec["recorded_at"]) is str
        and type(actor) is dict
        and actor.keys() == ACTOR_KEYS
        and type(actor["role"]) is str
        and type(actor["id"]) is str
        and type(rec["data"]) is dict
        and type(prev_hash) is str
        and len(prev_hash) == 64
        and not prev_hash.strip(hex_digits)
        and type(own_hash) is str
        and len(own_hash) == 64
        and not own_hash.strip(hex_digits)
    )


def _shape_problem(rec: dict[str, Any]) -> str:
    if rec.keys() != RECORD_KEYS:
        return "fields differ from the format"
    for name in ("position", "version"):
        value = rec[name]
        if type(value) is not int or value < 1:
            return f"{name} is not a positive integer"
    for name in ("claim_id", "type", "recorded_at"):
        if not isinstance(rec[name], str):
            return f"{name} is not a string"
    actor = rec["actor"]
    if not (
        isinstance(actor, dict) and actor.keys() == ACTOR_KEYS and all(type(v) is str for v in actor.values())
    ):
        return "actor is not {role, id}"
    if not isinstance(rec["data"], dict):
        return "data is not an object"
    for name in ("prev_hash", "hash"):
        if not _is_hash(rec[name]):
            return f"{name} is not 64 lowercase hex digits"
    return "malformed record"  # pragma: no cover - _well_formed and this list agree


def check_chunk(blob: bytes, first_line: int, claim: str | None) -> ChunkResult:
    """Check the lines of ``blob`` (each ending in a newline), the first being line ``first_line``.

    ``claim`` is the bundle's claim id for a claim bundle, None for a period bundle.
    """
    collecting = gc.isenabled()
    gc.disable()  # each record is dropped once checked: nothing for the cyclic collector to find
    try:
        return _check_lines(blob, first_line, claim)
    finally:
        if collecting:
            gc.enable()


def _check_lines(blob: bytes, first_line: int, claim: str | None) -> ChunkResult:
    result = ChunkResult()
    claims = result.claims
    prev_hash: str | None = None  # then a checked record's hash: a prev_hash equal to it is 64 hex digits
    last_position = 0
    line = first_line - 1
    loads, dumps, sha256 = orjson.loads, orjson.dumps, hashlib.sha256
    orjson_error, sort_keys = (orjson.JSONDecodeError, orjson.JSONEncodeError), orjson.OPT_SORT_KEYS
    lines = blob.split(b"\n")
    lines.pop()  # what follows the last newline: nothing
    for raw in lines:
        line += 1
        try:
            rec = loads(raw)
            if _canonical_form(rec):  # then orjson writes exactly canonical_parsed's bytes (module doc)
                record_hash = digest = rec.pop("hash")
                if sha256(dumps(rec, option=sort_keys)).hexdigest() != record_hash or (
                    rec["prev_hash"] != prev_hash and not _hex64(rec["prev_hash"])
                ):
                    rec = None  # a fault: the standard library's way finds it and says what it is
            else:  # a fault, or what orjson may read otherwise than the standard library
                rec = None
        except orjson_error:
            rec = None
        if rec is None:
            rec = _parse(raw, line)
            if isinstance(rec, LineFault):
                result.fault = rec
                return result
            record_hash = rec.pop("hash")
            try:
                digest = sha256(canonical_parsed(rec)).hexdigest()
            except UnicodeEncodeError:  # a lone surrogate has no UTF-8 form, so no record hashes to it
                digest = ""
        position: int = rec["position"]
        if digest != record_hash:
            result.fault = LineFault(
                line, HASH, "hash-mismatch", _where(line, position), "the record does not hash to its hash"
            )
            return result
        if line == first_line:
            result.first_prev_hash, result.first_position = rec["prev_hash"], position
        else:
            if claim is None and rec["prev_hash"] != prev_hash:
                result.fault = LineFault(
                    line,
                    LINK,
                    "broken-link",
                    _where(line, position),
                    f"prev_hash is not the hash of line {line - 1}",
                )
                return result
            if position <= last_position:
                result.fault = LineFault(
                    line,
                    POSITION,
                    "position-order",
                    _where(line, position),
                    f"position {position} does not follow position {last_position}",
                )
                return result
        claim_id: str = rec["claim_id"]
        version: int = rec["version"]
        seen = claims.get(claim_id)
        if claim is not None:
            problem = None
            if claim_id != claim:
                problem = ("claim-mismatch", f"claim {claim_id} is not the bundle's claim")
            elif version != line:
                problem = ("version-gap", f"version {version} where {line} was expected")
            if problem is not None:
                result.fault = LineFault(line, VERSION, problem[0], _where(line, position), problem[1])
                return result
        elif seen is not None and version != seen[2] + 1:
            result.fault = LineFault(
                line,
                VERSION,
                "version-gap",
                _where(line, position),
                f"claim {claim_id} version {version} follows version {seen[2]}",
            )
            return result
        if seen is None:
            claims[claim_id] = [1, version, version, position, position, line]
        else:
            seen[0] += 1
            seen[2] = version
            seen[4] = position
        prev_hash, last_position = record_hash, position
    result.count = len(lines)  # counted once all are checked: a chunk with a fault is not merged
    result.last_hash, result.last_position = prev_hash or "", last_position
    return result


class Merge:
    """Joins chunk results in file order; ``fault`` is the file's first fault once one is found."""

    def __init__(self, first_prev_hash: str, claim: str | None) -> None:
        self.claim = claim
        self.count = 0
        self.last_hash = first_prev_hash
        self.first_position: int | None = None
        self.last_position = 0
        self.claims: dict[str, list[int]] = {}
        self.fault: LineFault | None = None

    def add(self, chunk: ChunkResult) -> None:
        line = self.count + 1
        candidates = [] if chunk.fault is None else [chunk.fault]
        if chunk.first_prev_hash is not None:
            where = _where(line, chunk.first_position)
            if line == 1 and chunk.first_prev_hash != self.last_hash:
                candidates.append(
                    LineFault(
                        line, LINK, "broken-link", where, "prev_hash is not the manifest's first_prev_hash"
                    )
                )
            elif line > 1 and self.claim is None and chunk.first_prev_hash != self.last_hash:
                candidates.append(
                    LineFault(
                        line, LINK, "broken-link", where, f"prev_hash is not the hash of line {line - 1}"
                    )
                )
            if chunk.first_position <= self.last_position:
                candidates.append(
                    LineFault(
                        line,
                        POSITION,
                        "position-order",
                        where,
                        f"position {chunk.first_position} does not follow position {self.last_position}",
                    )
                )
        known = self.claims.keys() & chunk.claims.keys()  # claims already met in earlier chunks: few
        if self.claim is None:
            for claim_id in known:
                stats, seen = chunk.claims[claim_id], self.claims[claim_id]
                if stats[1] != seen[2] + 1:
                    candidates.append(
                        LineFault(
                            stats[5],
                            VERSION,
                            "version-gap",
                            _where(stats[5], stats[3]),
                            f"claim {claim_id} version {stats[1]} follows version {seen[2]}",
                        )
                    )
        if candidates:
            self.fault = min(candidates)
            return
        if self.first_position is None and chunk.count:
            self.first_position = chunk.first_position
        for claim_id in known:
            seen = self.claims[claim_id]
            seen[0] += chunk.claims[claim_id][0]
            seen[2] = chunk.claims[claim_id][2]
            seen[4] = chunk.claims[claim_id][4]
            chunk.claims[claim_id] = seen
        self.claims.update(chunk.claims)
        self.count += chunk.count
        if chunk.count:
            self.last_hash, self.last_position = chunk.last_hash, chunk.last_position
