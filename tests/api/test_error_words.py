"""Errors that tell the client what to do, in the client's language: 415 naming application/json,
malformed JSON with the character where it breaks, field messages instead of pydantic's texts, and 403s
that say who may do the act (worded from the permission matrix)."""

from __future__ import annotations

from typing import Any

from support.http import Api

CLAIM = {
    "order_id": "o-1", "kind": "refund_only", "reason": "damaged", "claimed_amount": "80.00", "description": "Broken."
}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}


def _refused(answer: Any, status: int) -> dict[str, Any]:
    return Api.problem(answer, status)


def test_a_body_without_the_json_content_type_gets_415_naming_application_json(api: Api) -> None:
    for headers in ({"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"}, {}):
        answer = api.post("b1", "/claims", content=b'{"order_id": "o-1"}', headers=headers)
        problem = _refused(answer, 415)
        assert problem["type"] == "/problems/unsupported-media-type"
        assert "application/json" in problem["detail"]
    assert api.http.get("/claims").status_code == 401  # nothing else changed: the usual answers stand


def test_malformed_json_gets_invalid_json_with_the_character_position(api: Api) -> None:
    body = b'{"order_id": "o-1", "kind": }'
    answer = api.post("b1", "/claims", content=body, headers={"Content-Type": "application/json"})

    problem = _refused(answer, 422)
    assert problem["type"] == "/problems/invalid-json"
    assert "character 28" in problem["detail"] and "line 1, column 29" in problem["detail"]


def test_field_errors_say_what_to_send_instead_of_pydantics_texts(api: Api) -> None:
    number = _refused(api.post("b1", "/claims", json={**CLAIM, "claimed_amount": 80}), 422)
    assert number["detail"] == 'claimed_amount: send amounts as strings, e.g. "100.00"'
    assert number["errors"][0]["msg"] == 'send amounts as strings, e.g. "100.00"'
    currency = _refused(api.post("b1", "/claims", json={**CLAIM, "currency": "yuan"}), 422)
    assert currency["detail"] == "currency: an ISO 4217 code such as CNY"
    delivered = _refused(api.post("b1", "/claims", json={**CLAIM, "delivered_at": "yesterday"}), 422)
    assert "null if not delivered" in delivered["detail"]
    missing = _refused(api.post("b1", "/claims", json={"kind": "refund_only"}), 422)
    assert missing["detail"] == "order_id: this field is required"
    for problem in (number, currency, delivered, missing):
        for error in problem["errors"]:
            assert "Input should" not in error["msg"] and "Field required" not in error["msg"], error


def test_field_errors_and_415_answer_in_chinese_when_asked(api: Api) -> None:
    number = api.post("b1", "/claims", json={**CLAIM, "claimed_amount": 80}, headers=ZH)
    problem = _refused(number, 422)
    assert number.headers["Content-Language"] == "zh-CN"
    assert (problem["title"], problem["detail"]) == ("请求无效", 'claimed_amount：金额请以字符串发送，例如 "100.00"')
    media = _refused(api.post("b1", "/claims", content=b"{}", headers={**ZH, "Content-Type": "text/plain"}), 415)
    assert media["title"] == "不支持的内容类型" and "application/json" in media["detail"]


def test_a_403_says_who_may_do_the_act(api: Api) -> None:
    claim = api.open_claim()
    api.act("m1", claim["id"], "merchant-response", {"decision": "accept"})

    refused = api.post("b1", f"/claims/{claim['id']}/refunds", json={"amount": "80.00", "payment_reference": "p-1"})

    problem = _refused(refused, 403)
    assert problem["detail"].startswith("only the claim's merchant or its assigned mediator may record refunds")
    in_chinese = _refused(
        api.post("b1", f"/claims/{claim['id']}/refunds", json={"amount": "80.00", "payment_reference": "p-1"}, headers=ZH),
        403,
    )
    assert in_chinese["detail"].startswith("只有申请的商家或被指派的调解员可以登记退款")
    assert in_chinese["title"] == "只有申请的当事方可以进行此操作"
    roles = _refused(api.get("b1", "/queue"), 403)
    assert roles["detail"] == "only a mediator may read the mediation queue"


def test_domain_problems_have_their_title_and_detail_in_chinese(api: Api) -> None:
    claim = api.open_claim()
    api.act("m1", claim["id"], "merchant-response", {"decision": "accept"})

    again = api.post("m1", f"/claims/{claim['id']}/merchant-response", json={"decision": "accept"}, headers=ZH)

    problem = _refused(again, 409)
    assert problem["type"] == "/problems/invalid-transition"
    assert (problem["title"], problem["detail"]) == ("申请当前状态下无法进行此操作", "申请的当前状态不允许此操作。")
    english = _refused(api.post("m1", f"/claims/{claim['id']}/merchant-response", json={"decision": "accept"}), 409)
    assert english["title"] == "Not possible in the claim's current status"
    assert english["detail"] != problem["detail"]
