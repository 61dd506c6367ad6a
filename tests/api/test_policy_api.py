"""GET /policy: the rules in force, without a token, in both languages, generated from the policy the
engine enforces; a browser gets a printable page whose sections are the deadlines' links."""

from __future__ import annotations

from disputes.application.rules import published
from support.http import Api


def test_the_published_rules_need_no_token_and_are_the_policy_in_force(api: Api) -> None:
    answer = api.get(None, "/policy")

    assert answer.status_code == 200, answer.text
    rules = answer.json()
    assert rules == published(api.container.app.policy)
    assert rules["version"] == "2026-11"
    assert [item["id"] for item in rules["deadlines"]][:2] == ["merchant_response", "offer_answer"]
    assert {item["id"] for item in rules["channels"]} == {"negotiation", "platform", "hotline", "mediation_bodies", "courts"}
    words = str(rules)
    assert "12315" in words and "人民法院" in words and "consumer associations" in words
    for item in rules["deadlines"] + rules["eligibility"] + rules["rights"] + rules["channels"]:
        assert set(item["text"]) == {"en", "zh-CN"} and all(item["text"].values()), item


def test_a_browser_gets_a_printable_page_in_its_language_with_an_anchor_per_deadline(api: Api) -> None:
    answer = api.get(None, "/policy", headers={"Accept": "text/html", "Accept-Language": "zh-CN"})

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["Content-Language"] == "zh-CN"
    page = answer.text
    assert '<html lang="zh-CN">' in page and "售后规则" in page and "@media print" in page
    for deadline in ("merchant_response", "offer_answer", "mediator_decision", "appeal_decision", "evidence_request"):
        assert f'<section id="{deadline}">' in page
    assert "src=" not in page and "href=" not in page  # nothing fetched from anywhere
