"""Offline verification of an export bundle: what ``disputes verify`` runs.

Checks, in order, stopping at the first fault: the zip holds exactly the five members; manifest.sig is
an Ed25519 signature of manifest.json's bytes by the given public key (else the bundled one); the
manifest names the format and the key; every events.jsonl record is well formed, hashes to its
``hash``, links to the record before it (period bundles) or continues the claim's versions (claim
bundles); counts, first prev_hash, last hash and every file's sha256 match the manifest; claims.csv
agrees with the events; and, given a previous bundle, this one continues its chain.

``tools/verify_bundle.py`` is an independent implementation of the same checks for regulators (standard
library and ``cryptography`` only); the test suite holds both to the same verdicts and messages.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import json
import os
import re
import zipfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from disputes.audit import AuditError
from disputes.audit.canonical import FORMAT, reject_float
from disputes.audit.chunks import ChunkResult, Merge, check_chunk
from disputes.audit.format import CLAIM_COLUMNS, CLAIMS, EVENTS, MANIFEST, MEMBERS, PUBLIC_KEY, SIGNATURE
from disputes.audit.keys import key_id, load_public_key

_HEX64 = re.compile(r"[0-9a-f]{64}")
_decoder = json.JSONDecoder(parse_float=reject_float, parse_constant=reject_float)
CHUNK = 1 << 22
"""Bytes of events.jsonl per chunk handed to a worker process."""
INLINE_CHUNK = 1 << 20
PARALLEL_BYTES = 1 << 25
"""events.jsonl at least this large (about 75,000 events) is checked by one process per CPU."""
ClaimStats = dict[str, list[int]]
"""claim -> [events, first_version, last_version, first_position, last_position, first_line]"""


@dataclass(frozen=True)
class BundleFault:
    code: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.detail}"


class _Fault(Exception):
    def __init__(self, code: str, where: str, detail: str) -> None:
        super().__init__(detail)
        self.fault = BundleFault(code, where, detail)


@dataclass
class BundleReport:
    path: Path
    fault: BundleFault | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    events: int = 0
    key_id: str = ""
    key_pinned: bool = False

    @property
    def ok(self) -> bool:
        return self.fault is None

    def summary(self) -> str:
        if self.fault is not None:
            return f"FAULT {self.fault}"
        m = self.manifest
        rng = m["range"]
        what = f"claim {rng['claim_id']}" if m["kind"] == "claim" else f"period {rng['from']}..{rng['to']}"
        key = f"key {self.key_id[:16]}" + (
            "" if self.key_pinned else " (bundled key; pin it with --public-key)"
        )
        return (
            f"OK {self.path.name}: {what}, {self.events} events, {m['counts']['claims']} claims, "
            f"last hash {m['last_hash']}, {key}"
        )


def _check(condition: bool, code: str, where: str, detail: str) -> None:
    if not condition:
        raise _Fault(code, where, detail)


class _Tally:
    """sha256 and size of the bytes read."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0

    def update(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)


def verify_bundle(path: Path, public_key: bytes | None = None, previous: Path | None = None) -> BundleReport:
    """Verify the bundle at ``path``; ``public_key`` (PEM) pins the signer, ``previous`` its predecessor."""
    report = BundleReport(Path(path), key_pinned=public_key is not None)
    try:
        _verify(report, public_key, previous)
    except _Fault as fault:
        report.fault = fault.fault
    return report


def _verify(report: BundleReport, public_key: bytes | None, previous: Path | None) -> None:
    name = report.path.name
    try:
        archive = zipfile.ZipFile(report.path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise _Fault("bad-zip", name, f"not a readable zip archive ({exc})") from None
    with archive:
        members = archive.namelist()
        for member in MEMBERS:
            _check(member in members, "missing-member", name, f"{member} is missing")
        extra = sorted(set(members) - set(MEMBERS))
        _check(not extra, "unexpected-member", name, f"unexpected member {', '.join(extra)}")
        _check(len(members) == len(set(members)), "duplicate-member", name, "a member appears twice")
        manifest = _signed_manifest(report, archive, public_key)
        _public_key_file(archive, manifest)
        stats = _events(report, archive, manifest)
        _claims(archive, manifest, stats)
    if previous is not None:
        _previous(report, manifest, public_key, previous)


def _signed_manifest(
    report: BundleReport, archive: zipfile.ZipFile, pinned_pem: bytes | None
) -> dict[str, Any]:
    manifest_bytes = archive.read(MANIFEST)
    try:
        signature = base64.b64decode(archive.read(SIGNATURE).strip(), validate=True)
    except binascii.Error:
        raise _Fault("bad-signature", SIGNATURE, "not base64") from None
    try:
        bundled = load_public_key(archive.read(PUBLIC_KEY), PUBLIC_KEY)
    except AuditError as exc:
        raise _Fault("bad-key", PUBLIC_KEY, exc.detail) from None
    try:
        pinned = load_public_key(pinned_pem, "public key") if pinned_pem is not None else None
    except AuditError as exc:
        raise _Fault("bad-key", "public key", exc.detail) from None
    trusted: Ed25519PublicKey = pinned or bundled
    trusted_id = key_id(trusted)
    try:
        trusted.verify(signature, manifest_bytes)
    except InvalidSignature:
        whose = "the given public key" if pinned is not None else "the bundled public key"
        raise _Fault(
            "bad-signature", SIGNATURE, f"does not verify manifest.json with {whose} {trusted_id[:16]}"
        ) from None
    try:
        manifest = _decoder.decode(manifest_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Fault("bad-manifest", MANIFEST, f"not JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise _Fault("bad-manifest", MANIFEST, "not a JSON object")
    _check(manifest.get("format") == FORMAT, "bad-manifest", MANIFEST, f"format is not {FORMAT}")
    _check(
        manifest.get("key_id") == trusted_id,
        "wrong-key",
        MANIFEST,
        f"names key {str(manifest.get('key_id'))[:16]}, signed by {trusted_id[:16]}",
    )
    _check(
        key_id(bundled) == trusted_id,
        "wrong-key",
        PUBLIC_KEY,
        f"is key {key_id(bundled)[:16]}, the manifest names {trusted_id[:16]}",
    )
    _manifest_shape(manifest)
    report.manifest, report.key_id = manifest, trusted_id
    return manifest


def _manifest_shape(m: dict[str, Any]) -> None:
    def ok_hash(value: Any) -> bool:
        return isinstance(value, str) and _HEX64.fullmatch(value) is not None

    _check(m.get("kind") in ("period", "claim"), "bad-manifest", MANIFEST, "kind is not period or claim")
    _check(isinstance(m.get("range"), dict), "bad-manifest", MANIFEST, "range is missing")
    counts = m.get("counts")
    _check(
        isinstance(counts, dict) and all(isinstance(counts.get(k), int) for k in ("events", "claims")),
        "bad-manifest",
        MANIFEST,
        "counts.events and counts.claims must be integers",
    )
    for name in ("first_prev_hash", "last_hash"):
        _check(ok_hash(m.get(name)), "bad-manifest", MANIFEST, f"{name} is not 64 lowercase hex digits")
    files = m.get("files")
    if not isinstance(files, dict):
        raise _Fault("bad-manifest", MANIFEST, "files is missing")
    for member in (EVENTS, CLAIMS, PUBLIC_KEY):
        entry = files.get(member)
        _check(
            isinstance(entry, dict) and ok_hash(entry.get("sha256")) and isinstance(entry.get("bytes"), int),
            "bad-manifest",
            MANIFEST,
            f"files.{member} needs sha256 and bytes",
        )
    if m["kind"] == "claim":
        rng = m["range"]
        _check(isinstance(rng.get("claim_id"), str), "bad-manifest", MANIFEST, "range.claim_id is missing")
        _check(rng.get("first_version") == 1, "bad-manifest", MANIFEST, "a claim bundle starts at version 1")
    else:
        rng = m["range"]
        _check(
            isinstance(rng.get("from"), str) and isinstance(rng.get("to"), str),
            "bad-manifest",
            MANIFEST,
            "range.from and range.to are missing",
        )


def _digest(manifest: dict[str, Any], member: str, digest: str, size: int) -> None:
    expected = manifest["files"][member]
    _check(
        expected["sha256"] == digest and expected["bytes"] == size,
        "digest-mismatch",
        member,
        "sha256 differs from the manifest",
    )


def _public_key_file(archive: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    data = archive.read(PUBLIC_KEY)
    _digest(manifest, PUBLIC_KEY, hashlib.sha256(data).hexdigest(), len(data))


def _blobs(stream: IO[bytes], tally: _Tally, size: int = CHUNK) -> Iterator[tuple[bytes, int]]:
    """Blocks of whole lines (each with its newline) and the number of their first line."""
    rest = b""
    line = 1
    while chunk := stream.read(size):
        tally.update(chunk)
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        if cut:
            blob, rest = data[:cut], data[cut:]
            yield blob, line
            line += blob.count(b"\n")
        else:
            rest = data
    if rest:
        yield rest + b"\0\n", line  # a last line without its newline: marked so that it never parses


def _workers(size: int) -> int:
    """Processes to check events.jsonl with: one per CPU for large files, none (inline) for small ones."""
    if size < PARALLEL_BYTES:
        return 0
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return cpus if cpus > 1 else 0


def _checked(blobs: Iterator[tuple[bytes, int]], claim: str | None, workers: int) -> Iterator[ChunkResult]:
    """Chunk results in file order, checked inline or by a pool with a bounded number in flight."""
    if not workers:
        for blob, line in blobs:
            yield check_chunk(blob, line, claim)
        return
    with ProcessPoolExecutor(workers) as pool:
        pending: deque[Future[ChunkResult]] = deque()
        for blob, line in blobs:
            pending.append(pool.submit(check_chunk, blob, line, claim))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _events(report: BundleReport, archive: zipfile.ZipFile, manifest: dict[str, Any]) -> ClaimStats:
    claim = manifest["range"].get("claim_id") if manifest["kind"] == "claim" else None
    tally = _Tally()
    merge = Merge(manifest["first_prev_hash"], claim)
    workers = _workers(archive.getinfo(EVENTS).file_size)
    with archive.open(EVENTS) as stream:
        results = _checked(_blobs(stream, tally, CHUNK if workers else INLINE_CHUNK), claim, workers)
        for result in results:
            merge.add(result)
            if merge.fault is not None:
                fault = merge.fault
                raise _Fault(fault.code, fault.where, fault.detail)
    report.events = count = merge.count
    _digest(manifest, EVENTS, tally.digest.hexdigest(), tally.size)
    _check(
        count == manifest["counts"]["events"],
        "count-mismatch",
        EVENTS,
        f"{count} events, the manifest says {manifest['counts']['events']}",
    )
    _check(
        merge.last_hash == manifest["last_hash"],
        "last-hash",
        EVENTS,
        "the last record's hash is not the manifest's last_hash",
    )
    rng = manifest["range"]
    _check(
        rng.get("first_position") == merge.first_position
        and rng.get("last_position") == (merge.last_position or None),
        "bad-manifest",
        MANIFEST,
        "range positions differ from the events",
    )
    return merge.claims


class _TallyReader(io.RawIOBase):
    """A raw reader over ``stream`` that tallies what passes through."""

    def __init__(self, stream: IO[bytes], tally: _Tally) -> None:
        self.stream, self.tally = stream, tally

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self.stream.read(len(buffer))
        self.tally.update(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _claims(archive: zipfile.ZipFile, manifest: dict[str, Any], stats: ClaimStats) -> None:
    tally = _Tally()
    with archive.open(CLAIMS) as raw:
        head = raw.read(3)
        tally.update(head)
        _check(head == b"\xef\xbb\xbf", "claims-mismatch", CLAIMS, "does not start with a UTF-8 BOM")
        text = io.TextIOWrapper(
            io.BufferedReader(_TallyReader(raw, tally), 1 << 20), encoding="utf-8", newline=""
        )
        rows = csv.reader(text)
        try:
            header = next(rows, None)
            _check(
                header == list(CLAIM_COLUMNS),
                "claims-mismatch",
                f"{CLAIMS} row 1",
                "the header differs from the format",
            )
            seen: set[str] = set()
            width = len(CLAIM_COLUMNS)
            counted = itemgetter(
                *(
                    CLAIM_COLUMNS.index(c)
                    for c in ("events", "first_version", "last_version", "first_position", "last_position")
                )
            )
            for n, row in enumerate(rows, 2):  # the checks of _check, inlined: one row per claim
                if len(row) != width:
                    raise _Fault("claims-mismatch", f"{CLAIMS} row {n}", "wrong number of columns")
                claim_id = row[0]
                expected = stats.get(claim_id)
                if expected is None:
                    raise _Fault(
                        "claims-mismatch",
                        f"{CLAIMS} row {n}",
                        f"claim {claim_id} has no events in the bundle",
                    )
                if claim_id in seen:
                    raise _Fault("claims-mismatch", f"{CLAIMS} row {n}", f"claim {claim_id} appears twice")
                seen.add(claim_id)
                if counted(row) != tuple(map(str, expected[:5])):
                    raise _Fault(
                        "claims-mismatch",
                        f"{CLAIMS} row {n}",
                        f"claim {claim_id}'s counts differ from the events",
                    )
        except UnicodeDecodeError:
            raise _Fault("claims-mismatch", CLAIMS, "not UTF-8") from None
        except csv.Error as exc:
            raise _Fault("claims-mismatch", CLAIMS, f"not CSV ({exc})") from None
    missing = len(stats) - len(seen)
    _check(missing == 0, "claims-mismatch", CLAIMS, f"{missing} claims of the events have no row")
    _digest(manifest, CLAIMS, tally.digest.hexdigest(), tally.size)
    _check(
        len(seen) == manifest["counts"]["claims"],
        "count-mismatch",
        CLAIMS,
        f"{len(seen)} claims, the manifest says {manifest['counts']['claims']}",
    )


def _previous(
    report: BundleReport, manifest: dict[str, Any], public_key: bytes | None, previous: Path
) -> None:
    before = verify_bundle(previous, public_key)
    name = Path(previous).name
    if before.fault is not None:
        raise _Fault("previous-invalid", name, f"the previous bundle fails: {before.fault}")
    _check(
        manifest["kind"] == "period" and before.manifest["kind"] == "period",
        "previous-link",
        name,
        "only period bundles continue one another",
    )
    _check(
        manifest["first_prev_hash"] == before.manifest["last_hash"],
        "previous-link",
        report.path.name,
        f"first_prev_hash does not continue {name}'s last hash {before.manifest['last_hash'][:16]}",
    )
