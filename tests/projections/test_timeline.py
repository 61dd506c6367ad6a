"""The case timeline: plain words, times, and what happens next and by when."""

from __future__ import annotations

from datetime import timedelta

from disputes.domain.claim import Claim
from disputes.domain.parties import Actor, Role
from disputes.domain.policy import Policy, Windows
from projections.runner import ProjectionRunner
from projections.store import ViewConnection
from projections.timeline import claim_timeline
from projections.wording import WORDED_EVENTS
from support.views import SYSTEM, Claims, ManualClock, buyer, mediator, merchant


def test_the_timeline_tells_the_case_in_plain_words_with_the_next_step_and_its_deadline(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    claim_id = claims.open(kind="return_and_refund", claimed_amount="80.00")
    clock.advance(hours=2)
    claims.app.respond(merchant(), claim_id, decision="offer", amount="30.00", message="Half?")
    clock.advance(hours=3)
    claims.app.answer_offer(buyer(), claim_id, accept=False)
    runner.run_until_caught_up()

    story = claim_timeline(views, buyer(), claim_id)

    assert story is not None
    assert (story.status, story.version) == ("offer_declined", 3)
    assert [(e["version"], e["at"], e["type"], e["status"]) for e in story.entries] == [
        (1, "2026-11-20T09:00:00.000000Z", "ClaimOpened", "awaiting_merchant"),
        (2, "2026-11-20T11:00:00.000000Z", "MerchantResponded", "offer_pending"),
        (3, "2026-11-20T14:00:00.000000Z", "OfferAnswered", "offer_declined"),
    ]
    order_id = story.entries[0]["text"].split("on order ")[1].split(",")[0]
    assert [e["text"] for e in story.entries] == [
        f"You opened a return and refund claim (damaged) on order {order_id}, asking for $80.00.",
        "Merchant m1 offered $30.00 instead.",
        "You declined the offer.",
    ]
    assert [e["code"] for e in story.entries] == ["claim_opened", "merchant_offered", "offer_declined"]
    assert story.entries[1]["actor"] == {"role": "merchant", "id": "m1"}
    assert story.next == [
        {
            "who": "buyer",
            "text": "You may ask the platform to mediate.",
            "due_at": "2026-11-27T14:00:00.000000Z",
            "due": "27 Nov 2026, 14:00 UTC",
            "if_missed": "If nothing is done by 27 Nov 2026, 14:00 UTC: the case is closed.",
            "rule_url": "/policy#mediation_request",
        }
    ]


def test_an_evidence_request_says_who_must_send_what_by_when_and_the_mediator_decides_next(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    claim_id = claims.open()
    claims.rejected_then_mediated(claim_id)
    due = clock() + timedelta(hours=24)
    claims.app.request_evidence(mediator(), claim_id, from_party="merchant", description="Packing photos.", due_at=due)
    runner.run_until_caught_up()

    story = claim_timeline(views, merchant(), claim_id)

    assert story is not None
    assert story.entries[-1]["text"] == "Mediator med1 asked you for evidence by 21 Nov 2026, 11:00 UTC: Packing photos."
    assert [(step["who"], step["text"], step["due_at"], step["rule_url"]) for step in story.next] == [
        ("merchant", "Send the evidence the mediator asked for.", "2026-11-21T11:00:00.000000Z", "/policy#evidence_request"),
        ("mediator", "Mediator med1 decides the case.", "2026-11-25T10:00:00.000000Z", "/policy#mediator_decision"),
    ]


def test_a_missed_deadline_and_a_refund_read_plainly(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    claim_id = claims.open()
    claims.rejected_then_mediated(claim_id)
    claims.app.request_evidence(mediator(), claim_id, from_party="buyer", description="A photo.", due_at=None)
    clock.advance(hours=73)
    claim = claims.app.load_claim(claim_id)
    claim.record_deadline_missed(actor=SYSTEM, deadline="evidence_from_buyer", windows=claims.app.windows, at=clock())
    claims.app.save_claim(claim)
    claims.decide(claim_id, "full_refund")
    claims.refund(claim_id, "80.00", who=merchant(), reference="pay-9")
    runner.run_until_caught_up()

    story = claim_timeline(views, Actor(Role.AUDITOR, "aud1"), claim_id)

    assert story is not None
    texts = [e["text"] for e in story.entries]
    assert "The time for the buyer's evidence ran out on 23 Nov 2026, 11:00 UTC." in texts
    assert "Mediator med1 decided: a full refund of $80.00. Reason: “Photos show the damage.”" in texts
    assert texts[-1] == "Merchant m1 refunded $80.00 (payment pay-9)."
    assert story.next == [{"who": "mediator", "text": "Mediator med1 closes the case.", "due_at": None}]


def test_only_the_claims_parties_mediators_and_auditors_see_its_timeline(
    claims: Claims, runner: ProjectionRunner, views: ViewConnection
) -> None:
    claim_id = claims.open("b1", "m1")
    runner.run_until_caught_up()

    for allowed in (buyer("b1"), merchant("m1"), mediator("med2"), Actor(Role.AUDITOR, "aud1")):
        assert claim_timeline(views, allowed, claim_id) is not None
    for refused in (buyer("b2"), merchant("m2"), Actor(Role.REGULATOR, "reg1"), Actor(Role.ADMIN, "adm1")):
        assert claim_timeline(views, refused, claim_id) is None
    assert claim_timeline(views, buyer("b1"), "no-such-claim") is None


def test_every_claim_event_has_plain_words() -> None:
    events = {
        name for name, value in vars(Claim).items() if isinstance(value, type) and issubclass(value, Claim.Event)
    }
    assert "Refunded" in events
    assert events - WORDED_EVENTS == {"Event", "Created"}  # the base classes


def test_a_chinese_buyer_reads_the_case_in_chinese_in_shanghai_time_with_amounts_in_yuan(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    claim_id = claims.open(currency="CNY", claimed_amount="80.00")
    clock.advance(hours=2)
    claims.app.respond(merchant(), claim_id, decision="offer", amount="30.00", message="Half?")
    runner.run_until_caught_up()
    policy = Policy(windows=Windows(timezone="Asia/Shanghai"))

    story = claim_timeline(views, buyer(), claim_id, language="zh-CN", policy=policy)

    assert story is not None
    texts = [e["text"] for e in story.entries]
    assert "申请金额 ¥80.00。" in texts[0] and texts[0].startswith("您就订单")
    assert texts[1] == "商家 m1提出改为退款 ¥30.00。"
    [step] = story.next
    assert step["text"] == "请接受或拒绝商家的方案。"
    assert step["due"] == "2026年11月22日 19:00 +0800"
    assert "19:00" in step["if_missed"] and "方案视为拒绝而失效" in step["if_missed"]
    assert step["rule_url"] == "/policy#offer_answer"
    assert "offer-lapses" not in step["if_missed"]


def test_the_same_claim_reads_in_english_to_the_merchant_with_the_buyer_by_name(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    claim_id = claims.open(currency="CNY", claimed_amount="80.00")
    runner.run_until_caught_up()

    story = claim_timeline(views, merchant(), claim_id, language="en")

    assert story is not None
    assert story.entries[0]["text"].startswith("Buyer b1 opened a ")
    assert story.entries[0]["text"].endswith("asking for CN¥80.00.")
    assert story.next[0]["text"] == "Accept, reject or offer a partial refund."
    assert story.next[0]["if_missed"].startswith("If nothing is done by ") and "the claim is accepted as claimed" in story.next[0]["if_missed"]
