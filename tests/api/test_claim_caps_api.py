"""The policy's caps on one claim over HTTP: past `[limits] claim_messages` or `claim_evidence` the claim
refuses the next item with a named 422 that carries the limit and the policy version, in the caller's
language, and records nothing; what the claim holds stays as it was. The counts are the claim's own,
rebuilt from its events, so a claim recorded under another policy is judged on what it holds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from disputes.api.app import create_app
from disputes.bootstrap import Container
from disputes.settings import Settings
from support import migrated_container, policy_file
from support.http import Api, AppSwitch, ManualClock

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.fixture
def container(database_url: str, clock: ManualClock, tmp_path: Path) -> Iterator[Container]:
    """A policy allowing three messages and two evidence items per claim, under its own version."""
    policy = policy_file(tmp_path, claim_messages=3, claim_evidence=2, version="2026-12-caps")
    with migrated_container(Settings(database_url=database_url, policy_file=policy), clock) as built:
        yield built


def evidence(n: int) -> dict[str, Any]:
    return {"kind": "photo", "description": f"photo {n}", "sha256": SHA, "size_bytes": 1000 + n}


def test_the_message_past_the_cap_is_refused_with_the_limit_and_nothing_is_recorded(api: Api) -> None:
    claim_id = api.open_claim()["id"]
    for n, who in enumerate(("b1", "m1", "b1"), start=1):
        api.act(who, claim_id, "messages", {"body": f"message {n}"})
    before = api.history(claim_id)

    refused = api.problem(
        api.post("m1", f"/claims/{claim_id}/messages", json={"body": "one more"}), 422, claim_id=claim_id
    )

    assert refused["type"] == "/problems/claim-message-limit"
    assert (refused["rule"], refused["policy_version"], refused["limit"]) == ("claim-message-limit", "2026-12-caps", 3)
    assert "3 messages" in refused["detail"]
    assert api.history(claim_id) == before  # nothing recorded
    bodies = [e["data"]["body"] for e in before if e["type"] == "MessagePosted"]
    assert bodies == ["message 1", "message 2", "message 3"]
    assert api.claim(claim_id)["version"] == before[-1]["version"]
    # Evidence has a cap of its own: a full conversation does not stop it.
    api.act("b1", claim_id, "evidence", evidence(1))


def test_the_evidence_past_the_cap_is_refused_in_the_callers_language(api: Api) -> None:
    claim_id = api.open_claim()["id"]
    api.act("b1", claim_id, "evidence", evidence(1))
    api.act("m1", claim_id, "evidence", evidence(2))

    answer = api.post(
        "b1", f"/claims/{claim_id}/evidence", json=evidence(3), headers={"Accept-Language": "zh-CN"}
    )

    refused = api.problem(answer, 422, claim_id=claim_id)
    assert refused["type"] == "/problems/claim-evidence-limit"
    assert answer.headers["Content-Language"] == "zh-CN"
    assert refused["title"] == "该申请的证据已达政策上限"
    assert (refused["rule"], refused["policy_version"], refused["limit"]) == ("claim-evidence-limit", "2026-12-caps", 2)
    added = [e["data"]["description"] for e in api.history(claim_id) if e["type"] == "EvidenceAdded"]
    assert added == ["photo 1", "photo 2"]
    api.act("b1", claim_id, "messages", {"body": "The photos say it all."})  # messages are still open


def test_the_published_rules_name_both_caps(api: Api) -> None:
    limits = {item["id"]: item for item in api.get(None, "/policy").json()["limits"]}

    assert (limits["claim_messages"]["count"], limits["claim_messages"]["rule"]) == (3, "claim-message-limit")
    assert (limits["claim_evidence"]["count"], limits["claim_evidence"]["rule"]) == (2, "claim-evidence-limit")
    assert "3" in limits["claim_messages"]["text"]["zh-CN"]
    page = api.get(None, "/policy", headers={"Accept": "text/html"}).text
    assert 'id="claim_messages"' in page and 'id="claim_evidence"' in page


def test_a_claim_recorded_under_a_larger_cap_is_judged_on_the_messages_its_events_hold(
    database_url: str, clock: ManualClock, server: tuple[AppSwitch, str], tmp_path: Path
) -> None:
    switch, base_url = server
    with migrated_container(Settings(database_url=database_url), clock) as before, switch.mounted(
        create_app(before)
    ), httpx.Client(base_url=base_url, timeout=30) as http:
        old = Api(http, before, clock)
        claim_id = old.open_claim()["id"]
        for n in range(4):
            old.act("b1", claim_id, "messages", {"body": f"message {n}"})

    lower = policy_file(tmp_path, claim_messages=4, version="2026-12-lower")
    with migrated_container(Settings(database_url=database_url, policy_file=lower), clock) as after, switch.mounted(
        create_app(after)
    ), httpx.Client(base_url=base_url, timeout=30) as http:
        new = Api(http, after, clock)
        refused = new.problem(new.post("m1", f"/claims/{claim_id}/messages", json={"body": "five"}), 422)
        assert (refused["type"], refused["policy_version"]) == ("/problems/claim-message-limit", "2026-12-lower")
        assert [e["type"] for e in new.history(claim_id)].count("MessagePosted") == 4
