#!/usr/bin/env python3
"""Verify a Disputes audit-trail bundle offline, without the Disputes server or its code.

    python3 verify_bundle.py BUNDLE.zip [--public-key KEY.pem] [--previous EARLIER.zip]

Needs Python 3.9 or later and the ``cryptography`` package (``pip install cryptography``), nothing else.
Exit status: 0 and one ``OK`` line when the bundle is intact; 1 and one ``FAULT <where>: <what>`` line
naming the first fault found; 2 when it cannot run (bad arguments, unreadable files).

Checks, in order, stopping at the first fault (the format is described in docs/audit-trail.md):
1. the zip holds exactly events.jsonl, claims.csv, public-key.pem, manifest.json, manifest.sig;
2. manifest.sig is a valid Ed25519 signature (base64) of the exact bytes of manifest.json, by the key
   given with --public-key, else by the bundled public-key.pem (which proves integrity, not origin);
3. the manifest names the format ``disputes-audit-trail/1`` and the signing key's id (sha256 of the
   raw 32-byte public key, hex), and the bundled key is that key;
4. public-key.pem's sha256 is the manifest's;
5. each line of events.jsonl is one record with exactly the fields of the format; its ``hash`` is
   sha256(canonical JSON of the record without ``hash``); the first record's ``prev_hash`` is the
   manifest's ``first_prev_hash``; in a period bundle each later ``prev_hash`` is the hash of the line
   before; positions increase; each claim's versions follow one another (a claim bundle: its one claim,
   versions 1, 2, 3 ...);
6. events.jsonl's sha256, its count of events, its last hash and its positions are the manifest's;
7. claims.csv (UTF-8 with BOM) has one row per claim of the events, with the same counts, versions
   and positions, and its sha256 is the manifest's;
8. with --previous: that bundle verifies too, and this bundle's first_prev_hash is its last_hash.

This file deliberately shares no code with the server: it is a second, independent implementation.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import csv
import hashlib
import io
import json
import multiprocessing
import operator
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

try:
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover - depends on the regulator's machine
    sys.stderr.write("verify_bundle.py needs the cryptography package: pip install cryptography\n")
    raise SystemExit(2) from None

FORMAT = "disputes-audit-trail/1"
EVENTS, CLAIMS, PUBLIC_KEY, MANIFEST, SIGNATURE = (
    "events.jsonl",
    "claims.csv",
    "public-key.pem",
    "manifest.json",
    "manifest.sig",
)
MEMBERS = (EVENTS, CLAIMS, PUBLIC_KEY, MANIFEST, SIGNATURE)
RECORD_KEYS = {"position", "claim_id", "version", "type", "recorded_at", "actor", "data", "prev_hash", "hash"}
CLAIM_COLUMNS = [
    "claim_id", "order_id", "buyer_id", "merchant_id", "kind", "reason", "currency", "order_amount",
    "claimed_amount", "opened_at", "events", "first_version", "last_version", "first_position",
    "last_position", "last_event", "last_recorded_at",
]  # fmt: skip
CHECKED_COLUMNS = ["events", "first_version", "last_version", "first_position", "last_position"]
checked_cells = operator.itemgetter(*(CLAIM_COLUMNS.index(c) for c in CHECKED_COLUMNS))
"""The cells of a claims.csv row that the events determine, as a tuple."""
HEX = set("0123456789abcdef")
HEX_DIGITS = "0123456789abcdef"


# --- canonical JSON: sorted keys, "," and ":" with no spaces, UTF-8 (no \u escapes), no floats ----------


def no_float(text: str) -> Any:
    raise ValueError("floats are not allowed")


def digest_of(record: Any) -> str | None:
    """sha256 of the canonical record; None when it has no UTF-8 form (a lone surrogate)."""
    try:
        return hashlib.sha256(canonical(record)).hexdigest()
    except UnicodeEncodeError:
        return None


def canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def parse_json(text: str) -> Any:
    return json.loads(text, parse_float=no_float, parse_constant=no_float)


_decoder = json.JSONDecoder(parse_float=no_float, parse_constant=no_float)
"""``parse_json``'s decoder, built once (json.loads builds one on every call with these hooks)."""
_encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
try:  # the C encoder behind _encoder, built once (JSONEncoder.encode builds one on every call)
    from json.encoder import c_encode_basestring, c_make_encoder  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - not CPython
    c_make_encoder = None


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


_c_encode = (
    c_make_encoder(None, _refuse, c_encode_basestring, None, ":", ",", True, False, False)
    if c_make_encoder is not None and c_encode_basestring is not None
    else None
)


def _canonical_text(value: Any) -> str:
    """``canonical(value)`` before its UTF-8 encoding, for a value parsed by ``_decoder`` (no floats, no
    cycles: the same text as json.dumps with canonical's arguments)."""
    if _c_encode is None:  # pragma: no cover
        return _encoder.encode(value)
    return "".join(_c_encode(value, 0))


def is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= HEX


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


# --- verdicts ------------------------------------------------------------------------------------------


class Fault(Exception):
    def __init__(self, code: str, where: str, detail: str) -> None:
        super().__init__(f"{where}: {detail}")
        self.code, self.where, self.detail = code, where, detail

    def __str__(self) -> str:
        return f"{self.where}: {self.detail}"


def require(condition: bool, code: str, where: str, detail: str) -> None:
    if not condition:
        raise Fault(code, where, detail)


class Report:
    def __init__(self, path: Path, pinned: bool) -> None:
        self.path = path
        self.pinned = pinned
        self.fault: Fault | None = None
        self.manifest: dict[str, Any] = {}
        self.events = 0
        self.key_id = ""

    @property
    def ok(self) -> bool:
        return self.fault is None

    def summary(self) -> str:
        if self.fault is not None:
            return f"FAULT {self.fault}"
        m = self.manifest
        rng = m["range"]
        what = f"claim {rng['claim_id']}" if m["kind"] == "claim" else f"period {rng['from']}..{rng['to']}"
        key = f"key {self.key_id[:16]}" + ("" if self.pinned else " (bundled key; pin it with --public-key)")
        return (
            f"OK {self.path.name}: {what}, {self.events} events, {m['counts']['claims']} claims, "
            f"last hash {m['last_hash']}, {key}"
        )


def load_key(data: bytes, where: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise Fault("bad-key", where, f"{where} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise Fault("bad-key", where, f"{where} is not an Ed25519 public key")
    return key


# --- the checks ------------------------------------------------------------------------------------------


def verify_bundle(path: Path, public_key_pem: bytes | None = None, previous: Path | None = None) -> Report:
    report = Report(Path(path), pinned=public_key_pem is not None)
    try:
        check_bundle(report, public_key_pem)
        if previous is not None:
            check_previous(report, public_key_pem, Path(previous))
    except Fault as fault:
        report.fault = fault
    return report


def check_bundle(report: Report, pinned_pem: bytes | None) -> None:
    name = report.path.name
    try:
        archive = zipfile.ZipFile(report.path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise Fault("bad-zip", name, f"not a readable zip archive ({exc})") from None
    with archive:
        names = archive.namelist()
        for member in MEMBERS:
            require(member in names, "missing-member", name, f"{member} is missing")
        extra = sorted(set(names) - set(MEMBERS))
        require(not extra, "unexpected-member", name, f"unexpected member {', '.join(extra)}")
        require(len(names) == len(set(names)), "duplicate-member", name, "a member appears twice")

        # 2-3: the signature, then the manifest it covers
        manifest_bytes = archive.read(MANIFEST)
        try:
            signature = base64.b64decode(archive.read(SIGNATURE).strip(), validate=True)
        except binascii.Error:
            raise Fault("bad-signature", SIGNATURE, "not base64") from None
        bundled = load_key(archive.read(PUBLIC_KEY), PUBLIC_KEY)
        pinned = load_key(pinned_pem, "public key") if pinned_pem is not None else None
        trusted = pinned or bundled
        trusted_id = key_id(trusted)
        try:
            trusted.verify(signature, manifest_bytes)
        except InvalidSignature:
            whose = "the given public key" if pinned is not None else "the bundled public key"
            raise Fault(
                "bad-signature", SIGNATURE, f"does not verify manifest.json with {whose} {trusted_id[:16]}"
            ) from None
        try:
            manifest = parse_json(manifest_bytes.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise Fault("bad-manifest", MANIFEST, f"not JSON ({exc})") from None
        if not isinstance(manifest, dict):
            raise Fault("bad-manifest", MANIFEST, "not a JSON object")
        require(manifest.get("format") == FORMAT, "bad-manifest", MANIFEST, f"format is not {FORMAT}")
        require(
            manifest.get("key_id") == trusted_id,
            "wrong-key",
            MANIFEST,
            f"names key {str(manifest.get('key_id'))[:16]}, signed by {trusted_id[:16]}",
        )
        require(
            key_id(bundled) == trusted_id,
            "wrong-key",
            PUBLIC_KEY,
            f"is key {key_id(bundled)[:16]}, the manifest names {trusted_id[:16]}",
        )
        check_manifest(manifest)
        report.manifest, report.key_id = manifest, trusted_id

        # 4: the public key file
        data = archive.read(PUBLIC_KEY)
        check_digest(manifest, PUBLIC_KEY, hashlib.sha256(data).hexdigest(), len(data))
        # 5-6: the events; 7: the claims
        claims = check_events(report, archive, manifest)
        check_claims(archive, manifest, claims)


def check_manifest(m: dict[str, Any]) -> None:
    require(m.get("kind") in ("period", "claim"), "bad-manifest", MANIFEST, "kind is not period or claim")
    require(isinstance(m.get("range"), dict), "bad-manifest", MANIFEST, "range is missing")
    counts = m.get("counts")
    require(
        isinstance(counts, dict) and all(isinstance(counts.get(k), int) for k in ("events", "claims")),
        "bad-manifest",
        MANIFEST,
        "counts.events and counts.claims must be integers",
    )
    for name in ("first_prev_hash", "last_hash"):
        require(is_hash(m.get(name)), "bad-manifest", MANIFEST, f"{name} is not 64 lowercase hex digits")
    files = m.get("files")
    if not isinstance(files, dict):
        raise Fault("bad-manifest", MANIFEST, "files is missing")
    for member in (EVENTS, CLAIMS, PUBLIC_KEY):
        entry = files.get(member)
        require(
            isinstance(entry, dict) and is_hash(entry.get("sha256")) and isinstance(entry.get("bytes"), int),
            "bad-manifest",
            MANIFEST,
            f"files.{member} needs sha256 and bytes",
        )
    rng = m["range"]
    if m["kind"] == "claim":
        require(isinstance(rng.get("claim_id"), str), "bad-manifest", MANIFEST, "range.claim_id is missing")
        require(rng.get("first_version") == 1, "bad-manifest", MANIFEST, "a claim bundle starts at version 1")
    else:
        require(
            isinstance(rng.get("from"), str) and isinstance(rng.get("to"), str),
            "bad-manifest",
            MANIFEST,
            "range.from and range.to are missing",
        )


def check_digest(manifest: dict[str, Any], member: str, digest: str, size: int) -> None:
    expected = manifest["files"][member]
    require(
        expected["sha256"] == digest and expected["bytes"] == size,
        "digest-mismatch",
        member,
        "sha256 differs from the manifest",
    )


def well_formed(rec: Any) -> bool:
    """The fast form of ``record_problem(rec) is None``."""
    if type(rec) is not dict or rec.keys() != RECORD_KEYS:
        return False
    actor, prev_hash, own = rec["actor"], rec["prev_hash"], rec["hash"]
    return (
        type(rec["position"]) is int
        and type(rec["version"]) is int
        and rec["position"] > 0
        and rec["version"] > 0
        and isinstance(rec["claim_id"], str)
        and isinstance(rec["type"], str)
        and isinstance(rec["recorded_at"], str)
        and type(actor) is dict
        and actor.keys() == {"role", "id"}
        and type(actor["role"]) is str
        and type(actor["id"]) is str
        and type(rec["data"]) is dict
        and type(prev_hash) is str
        and len(prev_hash) == 64
        and not prev_hash.strip(HEX_DIGITS)
        and type(own) is str
        and len(own) == 64
        and not own.strip(HEX_DIGITS)
    )


def record_problem(rec: Any) -> str | None:
    if not isinstance(rec, dict):
        return "not a JSON object"
    if set(rec) != RECORD_KEYS:
        return "fields differ from the format"
    for name in ("position", "version"):
        if type(rec[name]) is not int or rec[name] < 1:
            return f"{name} is not a positive integer"
    for name in ("claim_id", "type", "recorded_at"):
        if not isinstance(rec[name], str):
            return f"{name} is not a string"
    actor = rec["actor"]
    if not (
        isinstance(actor, dict)
        and set(actor) == {"role", "id"}
        and all(isinstance(v, str) for v in actor.values())
    ):
        return "actor is not {role, id}"
    if not isinstance(rec["data"], dict):
        return "data is not an object"
    for name in ("prev_hash", "hash"):
        if not is_hash(rec[name]):
            return f"{name} is not 64 lowercase hex digits"
    return None


def blocks_of(stream: Any, digest: Any, counter: list[int], size: int) -> Any:
    """Blocks of whole lines (each with its newline) and the number of their first line, hashing and
    counting the bytes read. A last line without its newline is marked so that it never parses."""
    rest = b""
    line = 1
    while True:
        chunk = stream.read(size)
        if not chunk:
            break
        digest.update(chunk)
        counter[0] += len(chunk)
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        if cut:
            block, rest = data[:cut], data[cut:]
            yield block, line
            line += block.count(b"\n")
        else:
            rest = data
    if rest:
        yield rest + b"\0\n", line


def check_line(raw: bytes, n: int) -> tuple[tuple[Any, ...] | None, tuple[str, str, str] | None]:
    """Steps 1 and 2 of check 5 for line ``n`` (without its newline), by the standard library's parse and
    canonical re-encoding: its (position, claim_id, version, prev_hash, hash), or its fault (code, where,
    detail). A canonical line without escapes teaches :data:`_shapes` its shape."""
    try:
        rec = _decoder.decode(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, ("bad-record", f"{EVENTS} line {n}", "not a JSON record on one line")
    if not well_formed(rec):
        return None, ("bad-record", f"{EVENTS} line {n}", str(record_problem(rec)))
    own = rec.pop("hash")
    try:
        body: bytes | None = _canonical_text(rec).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate has no UTF-8 form
        body = None
    if body is None or hashlib.sha256(body).hexdigest() != own:
        where = f"{EVENTS} line {n} (position {rec['position']})"
        return None, ("hash-mismatch", where, "the record does not hash to its hash")
    _learn(raw, body)
    return (rec["position"], rec["claim_id"], rec["version"], rec["prev_hash"], own), None


# --- the same check over a line's bytes, for lines in the canonical form the exporter writes -------------
#
# A line in canonical form is its record's canonical JSON with the member ``"hash":"<64 hex>",`` in its
# sorted place, so its hash is the SHA-256 of the line without that member: no parse, no re-encoding. That
# holds only for a line that IS canonical, which :func:`check_line` proves by re-encoding; here it is
# proved otherwise. A line without a backslash, in valid UTF-8 without control characters, splits at its
# quotes into string contents and what lies between them (braces, ``:``, ``,``, integers, ``true`` ...).
# That "shape" (with the digits 2-9 written as 1, which keeps every integer's form) and the line's keys
# (the strings followed by ``:``) are compared with those of lines :func:`check_line` found canonical and
# well formed: any contents without ``"``, ``\`` and control characters are canonical strings, so a line
# of a known shape with known keys is canonical too, a record of the format, its values where the known
# line has them. Every other line, and any line whose hash does not check, goes through
# :func:`check_line`, which gives the verdict and the message.

_QUOTE, _BACKSLASH = b'"', b"\\"
_CONTROLS = bytes(c for c in range(32) if c != 10)
_ONES = bytes.maketrans(b"23456789", b"11111111")
_HASH_MEMBER = b'},"hash":"'
_HASH_MEMBER_BYTES = len('"hash":"",') + 64
_HEX_BYTES = HEX_DIGITS.encode()
_SHAPES_LIMIT, _KEYS_LIMIT = 4096, 64
_shapes: dict[bytes, tuple[Any, set[Any]]] = {}
"""Shape -> (the getter of its keys, the key tuples seen with it), learnt from lines found canonical."""


def _shape_of(parts: list[bytes]) -> bytes:
    return _QUOTE.join(parts[0::2]).translate(_ONES)


def _learn(raw: bytes, body: bytes) -> None:
    """Remember the shape and keys of ``raw``, a well-formed line whose re-encoded record is ``body``,
    when ``raw`` is that canonical form (plus its hash) and the fast path could read it."""
    if _BACKSLASH in raw or len(raw.translate(None, _CONTROLS)) != len(raw):
        return
    cut = raw.rfind(_HASH_MEMBER) + 2
    if cut < 2 or raw[:cut] + raw[cut + _HASH_MEMBER_BYTES :] != body:
        return
    parts = raw.split(_QUOTE)
    shape = _shape_of(parts)
    known = _shapes.get(shape)
    if known is None:
        if len(_shapes) >= _SHAPES_LIMIT:
            return
        at = [i for i in range(1, len(parts), 2) if parts[i + 1][:1] == b":"]
        known = _shapes[shape] = (operator.itemgetter(*at), set())
    if len(known[1]) < _KEYS_LIMIT:
        known[1].add(known[0](parts))


def fast_row(
    raw: bytes,
    _backslash: bytes = _BACKSLASH,
    _quote: bytes = _QUOTE,
    _shapes: dict[bytes, tuple[Any, set[Any]]] = _shapes,
    _ones: bytes = _ONES,
    _hex: bytes = _HEX_BYTES,
    _member: bytes = _HASH_MEMBER,
    _member_bytes: int = _HASH_MEMBER_BYTES,
    _sha256: Any = hashlib.sha256,
) -> tuple[Any, ...] | None:
    """:func:`check_line`'s row for a line of a known shape and keys that hashes to its hash, else None.

    Only for lines of a block in valid UTF-8 without control characters (but newlines). (The defaults
    bind module names as locals: this runs once per line.)"""
    if _backslash in raw:
        return None
    parts = raw.split(_quote)
    known = _shapes.get(_quote.join(parts[0::2]).translate(_ones))  # _shape_of(parts)
    if known is None or known[0](parts) not in known[1]:
        return None
    # the layout of a well-formed canonical record: {"actor":{"id":"..","role":".."},"claim_id":"..",
    # "data":{..},"hash":"..","position":N,"prev_hash":"..","recorded_at":"..","type":"..","version":N}
    prev_hash, own = parts[-12], parts[-18]
    if len(prev_hash) != 64 or prev_hash.strip(_hex):
        return None
    cut = raw.rfind(_member) + 2
    digest = _sha256(raw[:cut] + raw[cut + _member_bytes :]).hexdigest()
    if digest != own.decode():
        return None
    return int(parts[-15][1:-1]), parts[13].decode(), int(parts[-1][1:-1]), prev_hash.decode(), digest


def readable(block: bytes) -> bool:
    """Whether :func:`fast_row` may read the lines of ``block``: valid UTF-8, no control character."""
    if len(block.translate(None, _CONTROLS)) != len(block):
        return False
    try:
        block.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def check_block(block: bytes, first_line: int) -> tuple[list[tuple[Any, ...]], tuple[str, str, str] | None]:
    """Steps 1 and 2 of check 5 for each line of ``block``: one record of the format, hashing to its hash.

    Returns (position, claim_id, version, prev_hash, hash) of each line in order, up to the first line
    that fails, and that line's fault (code, where, detail), or None. The checks between lines (links,
    positions, versions) are made in file order by :func:`check_events`.
    """
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    fast = fast_row if readable(block) else None
    lines = block.split(b"\n")
    lines.pop()  # what follows the last newline: nothing
    for n, raw in enumerate(lines, first_line):
        row = fast(raw) if fast is not None else None
        if row is None:
            row, fault = check_line(raw, n)
            if row is None:
                return rows, fault
        append(row)
    return rows, None


BLOCK = 1 << 20
"""Bytes of events.jsonl checked at a time."""
PARALLEL_BYTES = 1 << 23
"""events.jsonl at least this large (about 20,000 events) is checked by one process per CPU."""


IN_FLIGHT = 2
"""Blocks sent ahead to each worker process."""


def worker_count(size: int) -> int:
    """Processes to share the hashing with: one per CPU for a large file on Linux, else none."""
    if size < PARALLEL_BYTES or not sys.platform.startswith("linux"):
        return 0
    if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover - Linux has fork
        return 0
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        cpus = os.cpu_count() or 1
    return cpus if cpus > 1 else 0


def serve_blocks(tasks: Any, results: Any) -> None:
    """A worker process: check each block it is sent, until it is sent None."""
    for block, line in iter(tasks.get, None):
        try:
            results.put(check_block(block, line))
        except BaseException as exc:  # pragma: no cover - a bug: reported, not hung on
            results.put(exc)


def checked_blocks(blocks: Any, workers: int) -> Any:
    """Results of :func:`check_block` in file order: inline, or by forked workers taking blocks in turn.

    The workers are forked (so they need not import this file by name) and each has a queue of its own:
    blocks go to them in turn and results are taken back in the same turn, ``IN_FLIGHT`` blocks in
    flight each (so that a worker has its next block while this process reads its last result). Blocks
    are sent by the queue's own thread: this process never waits to send while a worker waits to answer.
    """
    if not workers:
        for block, line in blocks:
            yield check_block(block, line)
        return
    context = multiprocessing.get_context("fork")
    lanes = [(context.Queue(), context.SimpleQueue()) for _ in range(workers)]
    processes = [context.Process(target=serve_blocks, args=lane, daemon=True) for lane in lanes]
    for process in processes:
        process.start()

    def take(n: int) -> Any:
        result = lanes[n % workers][1].get()
        if isinstance(result, BaseException):  # pragma: no cover
            raise result
        return result

    try:
        sent = taken = 0
        for block, line in blocks:
            lanes[sent % workers][0].put((block, line))
            sent += 1
            if sent - taken >= workers * IN_FLIGHT:
                yield take(taken)
                taken += 1
        while taken < sent:
            yield take(taken)
            taken += 1
    finally:
        for process in processes:  # stopped, not asked: one may be blocked writing a result nobody reads
            process.terminate()
            process.join()
        for tasks, _ in lanes:  # blocks a stopped worker never read are dropped, not waited on
            tasks.cancel_join_thread()
            tasks.close()


def check_events(report: Report, archive: zipfile.ZipFile, manifest: dict[str, Any]) -> dict[str, list[int]]:
    is_claim = manifest["kind"] == "claim"
    bundle_claim = manifest["range"].get("claim_id")
    digest, size = hashlib.sha256(), [0]
    claims: dict[
        str, list[int]
    ] = {}  # claim -> [events, first_version, last_version, first_position, last_position]
    prev = manifest["first_prev_hash"]
    first_position: int | None = None
    last_position = 0
    n = 0
    workers = worker_count(archive.getinfo(EVENTS).file_size)
    with archive.open(EVENTS) as stream:
        for rows, fault in checked_blocks(blocks_of(stream, digest, size, BLOCK), workers):
            for position, claim_id, version, prev_hash, own in rows:
                n += 1
                if n == 1:
                    if prev_hash != prev:
                        raise Fault(
                            "broken-link",
                            where_of(n, position),
                            "prev_hash is not the manifest's first_prev_hash",
                        )
                    first_position = position
                else:
                    if not is_claim and prev_hash != prev:
                        raise Fault(
                            "broken-link", where_of(n, position), f"prev_hash is not the hash of line {n - 1}"
                        )
                    if position <= last_position:
                        raise Fault(
                            "position-order",
                            where_of(n, position),
                            f"position {position} does not follow position {last_position}",
                        )
                seen = claims.get(claim_id)
                if is_claim:
                    if claim_id != bundle_claim:
                        raise Fault(
                            "claim-mismatch",
                            where_of(n, position),
                            f"claim {claim_id} is not the bundle's claim",
                        )
                    if version != n:
                        raise Fault(
                            "version-gap", where_of(n, position), f"version {version} where {n} was expected"
                        )
                elif seen is not None and version != seen[2] + 1:
                    raise Fault(
                        "version-gap",
                        where_of(n, position),
                        f"claim {claim_id} version {version} follows version {seen[2]}",
                    )
                if seen is None:
                    claims[claim_id] = [1, version, version, position, position]
                else:
                    seen[0] += 1
                    seen[2], seen[4] = version, position
                prev, last_position = own, position
            if fault is not None:
                raise Fault(*fault)
    report.events = n
    check_digest(manifest, EVENTS, digest.hexdigest(), size[0])
    expected = manifest["counts"]["events"]
    require(n == expected, "count-mismatch", EVENTS, f"{n} events, the manifest says {expected}")
    require(
        prev == manifest["last_hash"],
        "last-hash",
        EVENTS,
        "the last record's hash is not the manifest's last_hash",
    )
    rng = manifest["range"]
    require(
        rng.get("first_position") == first_position and rng.get("last_position") == (last_position or None),
        "bad-manifest",
        MANIFEST,
        "range positions differ from the events",
    )
    return claims


def where_of(line: int, position: int) -> str:
    return f"{EVENTS} line {line} (position {position})"


def check_claims(archive: zipfile.ZipFile, manifest: dict[str, Any], claims: dict[str, list[int]]) -> None:
    data = archive.read(CLAIMS)  # one row per claim: small beside events.jsonl
    require(data[:3] == b"\xef\xbb\xbf", "claims-mismatch", CLAIMS, "does not start with a UTF-8 BOM")
    try:
        text = data[3:].decode("utf-8")
    except UnicodeDecodeError:
        raise Fault("claims-mismatch", CLAIMS, "not UTF-8") from None
    seen = set()
    try:
        rows = csv.reader(io.StringIO(text, newline=""))
        header = next(rows, None)
        require(
            header == CLAIM_COLUMNS,
            "claims-mismatch",
            f"{CLAIMS} row 1",
            "the header differs from the format",
        )
        columns = len(CLAIM_COLUMNS)
        for n, row in enumerate(rows, 2):
            expected = claims.get(row[0]) if len(row) == columns else None
            if expected is None or row[0] in seen or checked_cells(row) != tuple(map(str, expected)):
                claim_row_fault(row, n, claims, seen)
            seen.add(row[0])
    except csv.Error as exc:
        raise Fault("claims-mismatch", CLAIMS, f"not CSV ({exc})") from None
    missing = len(claims) - len(seen)
    require(missing == 0, "claims-mismatch", CLAIMS, f"{missing} claims of the events have no row")
    check_digest(manifest, CLAIMS, hashlib.sha256(data).hexdigest(), len(data))
    expected_count = manifest["counts"]["claims"]
    require(
        len(seen) == expected_count,
        "count-mismatch",
        CLAIMS,
        f"{len(seen)} claims, the manifest says {expected_count}",
    )


def claim_row_fault(row: list[str], n: int, claims: dict[str, list[int]], seen: set[str]) -> None:
    """The fault of row ``n`` of claims.csv, which does not match the events (the checks in their order)."""
    where = f"{CLAIMS} row {n}"
    require(len(row) == len(CLAIM_COLUMNS), "claims-mismatch", where, "wrong number of columns")
    claim_id = row[0]
    expected = claims.get(claim_id)
    require(expected is not None, "claims-mismatch", where, f"claim {claim_id} has no events in the bundle")
    require(claim_id not in seen, "claims-mismatch", where, f"claim {claim_id} appears twice")
    raise Fault("claims-mismatch", where, f"claim {claim_id}'s counts differ from the events")


def check_previous(report: Report, pinned_pem: bytes | None, previous: Path) -> None:
    before = verify_bundle(previous, pinned_pem)
    if before.fault is not None:
        raise Fault("previous-invalid", previous.name, f"the previous bundle fails: {before.fault}")
    require(
        report.manifest["kind"] == "period" and before.manifest["kind"] == "period",
        "previous-link",
        previous.name,
        "only period bundles continue one another",
    )
    require(
        report.manifest["first_prev_hash"] == before.manifest["last_hash"],
        "previous-link",
        report.path.name,
        f"first_prev_hash does not continue {previous.name}'s last hash {before.manifest['last_hash'][:16]}",
    )


# --- command line ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="verify_bundle.py", description="Verify a Disputes audit-trail bundle."
    )
    parser.add_argument("bundle", type=Path, help="the bundle (zip) to verify")
    parser.add_argument(
        "--public-key", type=Path, help="the signer's Ed25519 public key (PEM); pins the signer"
    )
    parser.add_argument("--previous", type=Path, help="the period bundle this one continues")
    args = parser.parse_args(argv)
    pinned: bytes | None = None
    try:
        if args.public_key is not None:
            pinned = args.public_key.read_bytes()
        for path in (args.bundle, args.previous):
            if path is not None and not path.is_file():
                raise OSError(f"no bundle at {path}")
    except OSError as exc:
        sys.stderr.write(f"verify_bundle.py: error: {exc}\n")
        return 2
    report = verify_bundle(args.bundle, pinned, args.previous)
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
