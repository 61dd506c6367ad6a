"""A bundle tampered with in each way is refused by both verifiers, which name the same first fault.

The server's verifier is also run in chunks (tiny ones, inline and in worker processes), which must find
exactly the fault that the line-by-line standalone verifier finds.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

import disputes.audit.verify_bundle as server_verifier
from disputes.adapters.migrations import apply_migrations
from disputes.audit.bundle import Period, export_bundle, manifest_json
from disputes.audit.canonical import canonical
from disputes.audit.keys import SigningKey, generate_key, load_signing_key
from disputes.bootstrap import bootstrap
from disputes.settings import Settings
from support import CLAIMANT_FACTS
from support.audit import START, Clock, busy_store, load_tool, verify_both

Members = dict[str, bytes]


@dataclass(frozen=True)
class Bundles:
    first: Path
    second: Path
    claim: Path
    public_key: bytes
    other_key: SigningKey


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundles]:
    """Two consecutive period bundles and one claim bundle from a SQLite store (the files are the point)."""
    root = tmp_path_factory.mktemp("bundles")
    settings = Settings(database_url=f"sqlite:///{root / 'store.sqlite'}", order_facts=CLAIMANT_FACTS)
    clock = Clock(START)
    apply_migrations(settings.database)
    container = bootstrap(settings, clock=clock)
    try:
        ids = busy_store(container.app, clock, claims=4)
        key = load_signing_key(generate_key(root / "keys").private_path)
        other = load_signing_key(generate_key(root / "other").private_path)
        cut = START + timedelta(hours=8)
        args = (container.app, settings.database, key)
        first = export_bundle(*args, root / "first.zip", period=Period(START - timedelta(days=1), cut)).path
        second = export_bundle(*args, root / "second.zip", period=Period(cut, START + timedelta(days=1))).path
        claim = export_bundle(*args, root / "claim.zip", claim_id=ids[2]).path
        yield Bundles(first, second, claim, key.public_pem(), other)
    finally:
        container.close()


@pytest.fixture(params=["inline", "small-chunks", "worker-processes"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """How both verifiers read events.jsonl: whole, in blocks of about a line, or by worker processes."""
    tool = load_tool()
    if request.param == "small-chunks":
        monkeypatch.setattr(server_verifier, "INLINE_CHUNK", 300)
        monkeypatch.setattr(tool, "BLOCK", 300)
    elif request.param == "worker-processes":
        monkeypatch.setattr(server_verifier, "_workers", lambda size: 2)
        monkeypatch.setattr(server_verifier, "CHUNK", 1000)
        monkeypatch.setattr(tool, "worker_count", lambda size: 2)
        monkeypatch.setattr(tool, "BLOCK", 1000)
    return str(request.param)


def read(path: Path) -> Members:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write(path: Path, members: Members) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def lines(members: Members) -> list[bytes]:
    return members["events.jsonl"].splitlines(keepends=True)


def with_lines(members: Members, new: list[bytes]) -> Members:
    return {**members, "events.jsonl": b"".join(new)}


def edit_field(m: Members) -> Members:
    new = lines(m)
    record = json.loads(new[2])
    record["data"]["body"] = "Fine, half is fair."
    new[2] = canonical(record) + b"\n"
    return with_lines(m, new)


def drop_line(m: Members) -> Members:
    new = lines(m)
    del new[2]
    return with_lines(m, new)


def swap_lines(m: Members) -> Members:
    new = lines(m)
    new[2], new[3] = new[3], new[2]
    return with_lines(m, new)


def reformat_line(m: Members) -> Members:
    new = lines(m)
    new[4] = json.dumps(json.loads(new[4]), ensure_ascii=True).encode() + b"\n"  # same record, other bytes
    return with_lines(m, new)


def cut_last_newline(m: Members) -> Members:
    return {**m, "events.jsonl": m["events.jsonl"].rstrip(b"\n")}


def edit_manifest(m: Members) -> Members:
    manifest = json.loads(m["manifest.json"])
    manifest["counts"]["events"] -= 1
    return {**m, "manifest.json": manifest_json(manifest)}


def edit_claims_csv(m: Members) -> Members:
    return {**m, "claims.csv": m["claims.csv"].replace(b",o-1,", b",o-9,")}


def miscount_claims_csv(m: Members) -> Members:
    text = m["claims.csv"].decode("utf-8-sig").splitlines(keepends=True)
    del text[2]
    return {**m, "claims.csv": ("\ufeff" + "".join(text)).encode()}


def resign(m: Members, key: SigningKey, *, replace_public_key: bool) -> Members:
    manifest = json.loads(m["manifest.json"])
    m = dict(m)
    if replace_public_key:
        m["public-key.pem"] = key.public_pem()
        manifest["key_id"] = key.key_id
        manifest["files"]["public-key.pem"] = {
            "sha256": hashlib.sha256(m["public-key.pem"]).hexdigest(),
            "bytes": len(m["public-key.pem"]),
        }
    m["manifest.json"] = manifest_json(manifest)
    m["manifest.sig"] = base64.b64encode(key.sign(m["manifest.json"])) + b"\n"
    return m


def rewrite_history(m: Members, key: SigningKey) -> Members:
    """Edit an event, recompute every hash after it and the manifest, and sign it all with another key."""
    records = [json.loads(line) for line in lines(m)]
    records[2]["data"]["body"] = "Fine, half is fair."
    prev = records[0]["prev_hash"]
    for record in records:
        record["prev_hash"] = prev
        record["hash"] = hashlib.sha256(
            canonical({k: v for k, v in record.items() if k != "hash"})
        ).hexdigest()
        prev = record["hash"]
    m = with_lines(m, [canonical(r) + b"\n" for r in records])
    manifest = json.loads(m["manifest.json"])
    manifest["last_hash"] = prev
    manifest["files"]["events.jsonl"] = {
        "sha256": hashlib.sha256(m["events.jsonl"]).hexdigest(),
        "bytes": len(m["events.jsonl"]),
    }
    return resign({**m, "manifest.json": manifest_json(manifest)}, key, replace_public_key=True)


Case = tuple[str, Callable[[Bundles, Members], Members], str, str]
CASES: list[Case] = [
    ("edit a field", lambda b, m: edit_field(m), "hash-mismatch", "events.jsonl line 3 (position 3)"),
    ("drop a line", lambda b, m: drop_line(m), "broken-link", "events.jsonl line 3 (position 4)"),
    ("swap two lines", lambda b, m: swap_lines(m), "broken-link", "events.jsonl line 3 (position 4)"),
    ("reformat a line", lambda b, m: reformat_line(m), "digest-mismatch", "events.jsonl"),
    ("cut the last newline", lambda b, m: cut_last_newline(m), "bad-record", "events.jsonl line 8"),
    ("edit the manifest", lambda b, m: edit_manifest(m), "bad-signature", "manifest.sig"),
    ("edit claims.csv", lambda b, m: edit_claims_csv(m), "digest-mismatch", "claims.csv"),
    ("drop a claims.csv row", lambda b, m: miscount_claims_csv(m), "claims-mismatch", "claims.csv"),
    ("sign with another key", lambda b, m: resign(m, b.other_key, replace_public_key=False), "bad-signature", "manifest.sig"),
    ("rewrite the history", lambda b, m: rewrite_history(m, b.other_key), "bad-signature", "manifest.sig"),
    ("add a member", lambda b, m: {**m, "notes.txt": b"trust me"}, "unexpected-member", "first-tampered.zip"),
    ("remove a member", lambda b, m: {k: v for k, v in m.items() if k != "claims.csv"}, "missing-member", "first-tampered.zip"),
    ("garble the signature", lambda b, m: {**m, "manifest.sig": b"@@@"}, "bad-signature", "manifest.sig"),
]  # fmt: skip


def test_the_untampered_bundles_verify(bundles: Bundles, mode: str) -> None:
    assert verify_both(bundles.first, bundles.public_key) is None
    assert verify_both(bundles.second, bundles.public_key, previous=bundles.first) is None
    assert verify_both(bundles.claim, bundles.public_key) is None


@pytest.mark.parametrize(("name", "damage", "code", "where"), CASES, ids=[c[0] for c in CASES])
def test_a_tampered_period_bundle_is_refused_by_both_verifiers_naming_the_fault(
    bundles: Bundles,
    tmp_path: Path,
    mode: str,
    name: str,
    damage: Callable[..., Members],
    code: str,
    where: str,
) -> None:
    tampered = write(tmp_path / "first-tampered.zip", damage(bundles, read(bundles.first)))

    fault = verify_both(tampered, bundles.public_key)

    assert fault is not None and fault.startswith(f"{code}: {where}:"), fault


def test_a_bundle_signed_by_another_key_verifies_only_with_that_key(bundles: Bundles, tmp_path: Path) -> None:
    tampered = write(tmp_path / "forged.zip", rewrite_history(read(bundles.first), bundles.other_key))

    assert verify_both(tampered, bundles.other_key.public_pem()) is None  # internally consistent...
    fault = verify_both(tampered, bundles.public_key)  # ...but not signed by the platform's key
    assert fault is not None and fault.startswith(
        "bad-signature: manifest.sig: does not verify manifest.json"
    )


@pytest.mark.parametrize(
    ("damage", "code", "where"),
    [
        (drop_line, "version-gap", "events.jsonl line 3 (position"),
        (swap_lines, "version-gap", "events.jsonl line 3 (position"),
        (edit_field, "hash-mismatch", "events.jsonl line 3 (position"),
    ],
    ids=["drop a line", "swap two lines", "edit a field"],
)
def test_a_tampered_claim_bundle_is_refused_naming_the_fault(
    bundles: Bundles, tmp_path: Path, mode: str, damage: Callable[[Members], Members], code: str, where: str
) -> None:
    tampered = write(tmp_path / "claim-tampered.zip", damage(read(bundles.claim)))

    fault = verify_both(tampered, bundles.public_key)

    assert fault is not None and fault.startswith(f"{code}: {where}"), fault


def test_a_bundle_that_does_not_continue_the_previous_one_is_refused(bundles: Bundles) -> None:
    fault = verify_both(bundles.first, bundles.public_key, previous=bundles.second)

    assert fault == (
        "previous-link: first.zip: first_prev_hash does not continue second.zip's last hash "
        + json.loads(read(bundles.second)["manifest.json"])["last_hash"][:16]
    )


def test_a_tampered_previous_bundle_is_refused(bundles: Bundles, tmp_path: Path) -> None:
    previous = write(tmp_path / "previous.zip", drop_line(read(bundles.first)))

    fault = verify_both(bundles.second, bundles.public_key, previous=previous)

    assert fault is not None and fault.startswith(
        "previous-invalid: previous.zip: the previous bundle fails: "
    )


def test_a_claim_bundle_does_not_continue_a_period(bundles: Bundles) -> None:
    fault = verify_both(bundles.claim, bundles.public_key, previous=bundles.first)

    assert fault == "previous-link: first.zip: only period bundles continue one another"


def test_a_record_with_a_float_is_refused(bundles: Bundles, tmp_path: Path, mode: str) -> None:
    members = read(bundles.first)
    new = lines(members)
    new[1] = re.sub(rb'"version":(\d+)', rb'"version":\1.0', new[1])
    tampered = write(tmp_path / "float.zip", with_lines(members, new))

    assert verify_both(tampered, bundles.public_key) == (
        "bad-record: events.jsonl line 2: not a JSON record on one line"
    )


def test_a_record_with_a_lone_surrogate_is_a_named_fault_not_a_crash(
    bundles: Bundles, tmp_path: Path, mode: str
) -> None:
    members = read(bundles.first)
    new = lines(members)
    record = json.loads(new[2])
    record["data"]["body"] = "\ud800"
    new[2] = json.dumps(record, sort_keys=True, separators=(",", ":")).encode("ascii") + b"\n"
    tampered = write(tmp_path / "surrogate.zip", with_lines(members, new))

    fault = verify_both(tampered, bundles.public_key)

    assert fault is not None and fault.startswith("hash-mismatch: events.jsonl line 3"), fault
