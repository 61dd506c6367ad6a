"""People read the case in their language over HTTP: Accept-Language chooses zh-CN or en (Content-Language
names it), the policy's default_language and time zone otherwise, amounts in the language's currency format."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from disputes.adapters.policy_file import default_policy_text
from disputes.bootstrap import Container
from disputes.settings import Settings
from support import migrated_container
from support import reads as reads_support
from support.http import Api, ManualClock

reads_api = reads_support.reads_api


@pytest.fixture
def container(database_url: str, clock: ManualClock, tmp_path: Path) -> Iterator[Container]:
    """A platform whose policy speaks Chinese by default, in Shanghai time."""
    policy = tmp_path / "policy.toml"
    policy.write_text(
        default_policy_text()
        .replace('timezone = "UTC"', 'timezone = "Asia/Shanghai"')
        .replace('default_language = "en"', 'default_language = "zh-CN"'),
        encoding="utf-8",
    )
    with migrated_container(Settings(database_url=database_url, policy_file=policy), clock) as built:
        yield built


def _timeline(api: Api, who: str, claim_id: str, after: Any, **headers: str) -> Any:
    answer = api.get(
        who, f"/claims/{claim_id}/timeline", params={"min_position": after.headers["X-Disputes-Position"]}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    return answer


def test_a_chinese_buyer_reads_the_case_in_chinese_and_the_merchant_reads_it_in_english(reads_api: Api) -> None:
    api = reads_api
    claim = api.open_claim(currency="CNY", claimed_amount="80.00")
    offered = api.send(
        "m1", "POST", f"/claims/{claim['id']}/merchant-response", json={"decision": "offer", "amount": "30.00"}
    )
    assert offered.status_code == 200, offered.text

    chinese = _timeline(api, "b1", claim["id"], offered)  # no Accept-Language: the policy's zh-CN
    english = _timeline(api, "m1", claim["id"], offered, **{"Accept-Language": "en-GB,en;q=0.8"})

    assert chinese.headers["Content-Language"] == "zh-CN"
    assert english.headers["Content-Language"] == "en"
    story, told = chinese.json(), english.json()
    assert story["entries"][0]["text"].startswith("您就订单 ") and "申请金额 ¥80.00" in story["entries"][0]["text"]
    assert story["entries"][1]["text"] == "商家 m1提出改为退款 ¥30.00。"
    assert (story["entries"][0]["at"], story["entries"][0]["when"]) == ("2026-11-20T09:00:00Z", "2026年11月20日 17:00 +0800")
    [step] = story["next"]
    assert step["text"] == "请接受或拒绝商家的方案。"
    assert step["due"] == "2026年11月22日 17:00 +0800"  # 48 h after 09:00 UTC, told in Shanghai time
    assert step["rule_url"] == "/policy#offer_answer"
    assert "buyer-silent-offer-lapses" not in str(story)
    assert told["entries"][0]["text"].startswith("Buyer b1 opened a refund-only claim")
    assert told["entries"][1]["text"] == "You offered CN¥30.00 instead."
    assert told["next"][0]["text"] == "Buyer b1 accepts or declines the merchant's offer."
    assert told["next"][0]["due"] == "22 Nov 2026, 17:00 +0800"


def test_the_timeline_answers_for_the_claim_id_in_any_form_the_access_check_accepts(reads_api: Api) -> None:
    claim = reads_api.open_claim()
    posted = reads_api.post("b1", f"/claims/{claim['id']}/messages", json={"body": "Hello."})
    position = posted.headers
    for form in (claim["id"].upper(), claim["id"].replace("-", "")):
        answer = reads_api.get(
            "b1", f"/claims/{form}/timeline", params={"min_position": position["X-Disputes-Position"]}
        )
        assert reads_api.get("b1", f"/claims/{form}").status_code == 200  # the claim read accepts it
        assert answer.status_code == 200, answer.text
        assert answer.json()["claim_id"] == claim["id"]
        assert answer.json()["entries"][-1]["text"] == "您留言：“Hello.”"


def test_problems_answer_in_the_policy_language_and_in_english_when_asked(reads_api: Api) -> None:
    hidden = reads_api.get("b2", "/claims/no-such-claim/timeline")
    asked = reads_api.get("b2", "/claims/no-such-claim/timeline", headers={"Accept-Language": "en"})

    assert hidden.status_code == asked.status_code == 404
    assert (hidden.json()["title"], hidden.headers["Content-Language"]) == ("未找到申请", "zh-CN")
    assert (asked.json()["title"], asked.headers["Content-Language"]) == ("Claim not found", "en")


def test_the_mediators_queue_says_what_each_claim_waits_for_in_the_readers_language(reads_api: Api) -> None:
    claim = reads_api.open_claim()
    reads_api.act("m1", claim["id"], "merchant-response", {"decision": "reject"})
    asked = reads_api.post("b1", f"/claims/{claim['id']}/mediation-request", json={"reason": "Please decide."})
    position = {"min_position": asked.headers["X-Disputes-Position"]}

    chinese = reads_api.get("med1", "/queue", params=position).json()["items"]
    english = reads_api.get("med1", "/queue", params=position, headers={"Accept-Language": "en"}).json()["items"]

    assert [(i["action"], i["action_code"]) for i in chinese] == [("指派调解员", "assign_mediator")]
    assert [(i["action"], i["action_code"]) for i in english] == [("assign a mediator", "assign_mediator")]
