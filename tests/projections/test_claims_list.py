"""The claims list: rows as each claim stands, who sees which, filters and cursor pages."""

from __future__ import annotations

import pytest

from disputes.domain.parties import Actor, Role
from projections.claims_list import ClaimFilters, InvalidCursor, list_claims
from projections.runner import ProjectionRunner
from projections.store import ViewConnection
from support.views import Claims, ManualClock, buyer, mediator, merchant

AUDITOR = Actor(Role.AUDITOR, "aud1")


def ids(conn: ViewConnection, actor: Actor, **filters: str) -> set[str]:
    return {item["id"] for item in list_claims(conn, actor, ClaimFilters(**filters), 100, None).items}


def test_a_claim_row_shows_status_amounts_and_deadlines_as_the_claim_stands_now(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    claim_id = claims.open(claimed_amount="80.5")
    claims.rejected_then_mediated(claim_id)
    claims.decide(claim_id, "partial_refund", "50")
    runner.run_until_caught_up()

    [item] = list_claims(views, AUDITOR, ClaimFilters(), 10, None).items

    assert item["id"] == claim_id
    assert (item["status"], item["version"], item["mediator_id"]) == ("refund_pending", 5, "med1")
    assert (item["order_amount"], item["claimed_amount"], item["agreed_amount"], item["refunded_amount"]) == (
        "120.00",
        "80.50",
        "50.00",
        "0.00",
    )
    assert item["outcome"] == "partial_refund"
    assert item["deadlines"] == [
        {
            "name": "merchant_refund",
            "due_at": "2026-11-27T12:00:00.000000Z",
            "rule": "merchant-refund-late-mediates",
            "policy_version": "2026-11",
        }
    ]
    assert (item["opened_at"], item["updated_at"]) == ("2026-11-20T09:00:00.000000Z", "2026-11-20T12:00:00.000000Z")


def test_buyers_and_merchants_see_only_their_own_claims_and_mediators_and_auditors_see_all(
    claims: Claims, runner: ProjectionRunner, views: ViewConnection
) -> None:
    mine = claims.open("b1", "m1")
    theirs = claims.open("b2", "m2")
    other_shop = claims.open("b1", "m2")
    runner.run_until_caught_up()

    assert ids(views, buyer("b1")) == {mine, other_shop}
    assert ids(views, buyer("b2")) == {theirs}
    assert ids(views, merchant("m1")) == {mine}
    assert ids(views, merchant("m2")) == {theirs, other_shop}
    assert ids(views, mediator()) == ids(views, AUDITOR) == {mine, theirs, other_shop}
    assert ids(views, Actor(Role.REGULATOR, "reg1")) == set()
    assert ids(views, Actor(Role.ADMIN, "adm1")) == set()
    # A filter never widens what a role may see.
    assert ids(views, buyer("b2"), buyer_id="b1") == set()


def test_status_merchant_and_buyer_filters_combine(
    claims: Claims, runner: ProjectionRunner, views: ViewConnection
) -> None:
    rejected = claims.open("b1", "m1")
    claims.app.respond(merchant("m1"), rejected, decision="reject", amount=None, message="")
    waiting = claims.open("b1", "m1")
    elsewhere = claims.open("b2", "m2")
    runner.run_until_caught_up()

    assert ids(views, AUDITOR, status="awaiting_merchant") == {waiting, elsewhere}
    assert ids(views, AUDITOR, status="awaiting_merchant", merchant_id="m1") == {waiting}
    assert ids(views, AUDITOR, buyer_id="b1") == {rejected, waiting}
    assert ids(views, AUDITOR, buyer_id="b1", merchant_id="m2") == set()


def test_pages_follow_the_cursor_newest_first_without_gaps_or_repeats(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    opened = []
    for n in range(7):
        opened.append(claims.open())
        if n % 2:  # some claims share their opening time: the id breaks the tie
            clock.advance(minutes=5)
    runner.run_until_caught_up()

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = list_claims(views, AUDITOR, ClaimFilters(), 3, cursor)
        pages += 1
        seen += [item["id"] for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert pages == 3
    assert sorted(seen) == sorted(opened)
    assert len(seen) == len(set(seen))
    times = [item["opened_at"] for item in list_claims(views, AUDITOR, ClaimFilters(), 10, None).items]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize("cursor", ["not-base64!", "bm90IGpzb24", "WzEsMl0"])
def test_a_cursor_this_api_did_not_issue_is_refused(
    cursor: str, runner: ProjectionRunner, views: ViewConnection
) -> None:
    runner.run_until_caught_up()
    with pytest.raises(InvalidCursor):
        list_claims(views, AUDITOR, ClaimFilters(), 10, cursor)
