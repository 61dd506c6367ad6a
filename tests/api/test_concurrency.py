"""Commands racing on one claim over HTTP, from two threads with connections of their own."""

from __future__ import annotations

import threading

import httpx

from support.http import Api, race


def test_two_commands_with_the_same_if_match_never_both_apply(api: Api) -> None:
    claim = api.open_claim()
    claim_id = claim["id"]
    for version in range(1, 6):
        if_match = {"If-Match": f'"{version}"'}
        answers = race(
            api,
            [
                ("b1", claim_id, "messages", {"body": f"buyer {version}"}, if_match),
                ("m1", claim_id, "messages", {"body": f"merchant {version}"}, if_match),
            ],
        )
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses in ([200, 409], [200, 412]), [answer.text for answer in answers]
        winner = next(answer for answer in answers if answer.status_code == 200)
        loser = next(answer for answer in answers if answer.status_code != 200)
        assert winner.headers["ETag"] == f'"{version + 1}"'
        problem = Api.problem(loser, loser.status_code, claim_id=claim_id)
        assert problem["type"].rsplit("/", 1)[-1] in {"stale-version", "concurrent-update"}
        history = api.history(claim_id)
        assert [entry["version"] for entry in history] == list(range(1, version + 2))
        won = [f"buyer {version}", f"merchant {version}"][answers.index(winner)]
        assert (history[-1]["type"], history[-1]["data"]["body"]) == ("MessagePosted", won)


def test_an_accept_and_a_withdrawal_racing_on_one_version_leave_one_consistent_claim(api: Api) -> None:
    claim = api.open_claim()
    answers = race(
        api,
        [
            ("m1", claim["id"], "merchant-response", {"decision": "accept"}, {"If-Match": '"1"'}),
            ("b1", claim["id"], "withdrawal", {"reason": "Changed my mind."}, {"If-Match": '"1"'}),
        ],
    )
    statuses = [answer.status_code for answer in answers]
    assert sorted(statuses) in ([200, 409], [200, 412]), [answer.text for answer in answers]
    expected = "refund_pending" if statuses[0] == 200 else "withdrawn"
    now = api.claim(claim["id"])
    assert (now["version"], now["status"]) == (2, expected)
    assert len(api.history(claim["id"])) == 2


def test_two_merchant_answers_racing_without_if_match_never_both_apply(api: Api) -> None:
    claim = api.open_claim()
    answers = race(
        api,
        [
            ("m1", claim["id"], "merchant-response", {"decision": "accept"}, {}),
            ("m1", claim["id"], "merchant-response", {"decision": "reject"}, {}),
        ],
    )
    statuses = [answer.status_code for answer in answers]
    assert sorted(statuses) == [200, 409], [answer.text for answer in answers]
    loser = answers[statuses.index(409)]
    problem = Api.problem(loser, 409, claim_id=claim["id"])
    assert problem["type"].rsplit("/", 1)[-1] in {"concurrent-update", "invalid-transition"}
    expected = "refund_pending" if statuses[0] == 200 else "merchant_rejected"
    assert api.claim(claim["id"])["status"] == expected
    assert api.event_types(claim["id"]) == ["ClaimOpened", "MerchantResponded"]


def test_fifty_concurrent_refunds_never_pay_out_more_than_the_agreed_amount(api: Api) -> None:
    """Fifty clients refund 30.00 each at once on an 80.00 agreement; each retries the races it loses
    (409 concurrent-update) until the claim accepts or refuses it. Exactly two can be paid."""
    claim = api.open_claim(order_amount="120.00", claimed_amount="80.00")
    claim_id = claim["id"]
    api.act("m1", claim_id, "merchant-response", {"decision": "accept"})
    attempts = 50
    start = threading.Barrier(attempts)
    outcomes: list[tuple[int, str] | None] = [None] * attempts

    def refund(i: int) -> None:
        headers = {"Authorization": f"Bearer {api.token('m1')}"}
        with httpx.Client(base_url=api.http.base_url, timeout=60, headers=headers) as client:
            client.get("/healthz")  # connect first, so that all requests leave together
            start.wait(timeout=30)
            for _ in range(attempts * 4):
                answer = client.post(
                    f"/claims/{claim_id}/refunds", json={"amount": "30.00", "payment_reference": f"PAY-{i}"}
                )
                kind = answer.json().get("type", "") if answer.status_code != 200 else ""
                if not kind.endswith("/concurrent-update"):
                    outcomes[i] = (answer.status_code, kind)
                    return

    threads = [threading.Thread(target=refund, args=(i,)) for i in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert all(outcome is not None for outcome in outcomes), outcomes
    paid = [outcome for outcome in outcomes if outcome == (200, "")]
    refused = [outcome for outcome in outcomes if outcome != (200, "")]
    assert len(paid) == 2
    assert {kind.rsplit("/", 1)[-1] for _, kind in refused} == {"refund-exceeds-agreed"}
    assert {status for status, _ in refused} == {409}
    now = api.claim_of(api.get("m1", f"/claims/{claim_id}"))
    assert (now["refunded_amount"], now["agreed_amount"], now["status"]) == ("60.00", "80.00", "refund_pending")
    assert api.event_types(claim_id).count("Refunded") == 2
