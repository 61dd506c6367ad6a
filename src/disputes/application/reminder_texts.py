"""The words of a deadline reminder, in English and Simplified Chinese (the platform's messaging service
turns them into an SMS or an app push). Times are shown in the policy's zone.

Kept in one module, both languages side by side, so that they can move to the message catalogues as a
whole.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

LANGUAGES = ("en", "zh-CN")

PARTY: dict[str, dict[str, str]] = {
    "en": {"buyer": "buyer", "merchant": "merchant", "platform": "platform"},
    "zh-CN": {"buyer": "买家", "merchant": "商家", "platform": "平台"},
}

ACTION: dict[str, dict[str, str]] = {
    "en": {
        "merchant_response": "answer the claim",
        "offer_answer": "answer the merchant's offer",
        "mediation_request": "ask the platform to mediate, if you wish to",
        "return_shipment": "ship the return",
        "merchant_refund": "refund the buyer",
        "evidence_from_buyer": "send the evidence the mediator asked for",
        "evidence_from_merchant": "send the evidence the mediator asked for",
        "mediator_decision": "decide the case",
        "appeal_decision": "decide the appeal",
    },
    "zh-CN": {
        "merchant_response": "回应售后申请",
        "offer_answer": "答复商家的协商方案",
        "mediation_request": "如需平台介入，请申请平台介入",
        "return_shipment": "寄回退货",
        "merchant_refund": "向买家退款",
        "evidence_from_buyer": "提交调解员要求的凭证",
        "evidence_from_merchant": "提交调解员要求的凭证",
        "mediator_decision": "作出裁决",
        "appeal_decision": "对申诉作出裁决",
    },
}

DEFAULT_ACTION = {"en": "act", "zh-CN": "处理"}

TEMPLATE = {
    "en": "Reminder for the {party} of claim {claim}: please {action} by {due} ({zone}). "
    "If nothing is done by then, the platform's rule for this deadline applies.",
    "zh-CN": "售后单 {claim} 的{party}请注意：请于 {due}（{zone}）前{action}。逾期未处理的，将按平台规则自动处理。",
}


def reminder_text(claim_id: str, party: str, deadline: str, due_at: datetime, zone: tzinfo) -> dict[str, str]:
    """The reminder's words, ``{"en": ..., "zh-CN": ...}``."""
    local = due_at.astimezone(zone)
    due = local.strftime("%Y-%m-%d %H:%M")
    zone_name = str(zone) if str(zone) != "UTC" else "UTC"
    return {
        language: TEMPLATE[language].format(
            party=PARTY[language].get(party, party),
            claim=claim_id,
            action=ACTION[language].get(deadline, DEFAULT_ACTION[language]),
            due=due,
            zone=zone_name,
        )
        for language in LANGUAGES
    }
