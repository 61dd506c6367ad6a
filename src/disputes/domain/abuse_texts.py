"""Words for people about signals and limits, in en and zh-CN (one place, to move into the catalogues).

Each text is a ``str.format`` template; the keys are the signal names and the limit rules' names.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "zh-CN")
DEFAULT_LANGUAGE = "en"

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "serial_refund_only": (
            "The buyer opened {count} refund-only claims against {merchants} merchants within {window} of "
            "this claim (the policy signals from {min_claims} claims against {min_merchants} merchants)."
        ),
        "silence_wins": (
            "{part} of the buyer's {whole} claims were won because the merchant did not answer in time "
            "(share {share}; the policy signals from {min_share} with at least {minimum} claims)."
        ),
        "shared_evidence": (
            "Evidence with the same SHA-256 digest is attached to {count} claims of other buyers or orders."
        ),
        "not_received_delivered": (
            "The buyer claims the order was not received; the platform recorded it delivered at {delivered_at}."
        ),
        "near_total_burst": (
            "The buyer claimed at least {ratio} of the order total on {orders} orders within {window} of "
            "this claim (the policy signals from {min_orders} orders)."
        ),
        "reject_then_lose": (
            "The merchant rejected {whole} claims and then lost {part} of them in mediation (rate {share}; "
            "the policy signals from {min_share} with at least {minimum} rejections)."
        ),
        "buyer-claim-rate-limit": (
            "You have opened {count} claims within {window}, as many as the policy allows; you may open "
            "another from {retry_at}."
        ),
    },
    "zh-CN": {
        "serial_refund_only": (
            "该买家在本申请前后{window}内针对{merchants}个商家发起了{count}笔仅退款申请"
            "（政策规定：针对{min_merchants}个商家达到{min_claims}笔即提示）。"
        ),
        "silence_wins": (
            "该买家的{whole}笔申请中有{part}笔因商家未按时答复而获支持（比例{share}；"
            "政策规定：至少{minimum}笔申请且比例达到{min_share}即提示）。"
        ),
        "shared_evidence": "同一SHA-256摘要的证据出现在其他买家或其他订单的{count}笔申请中。",
        "not_received_delivered": "买家称未收到货物；平台记录该订单已于{delivered_at}妥投。",
        "near_total_burst": (
            "该买家在本申请前后{window}内对{orders}个订单申请的金额均不低于订单总额的{ratio}"
            "（政策规定：达到{min_orders}个订单即提示）。"
        ),
        "reject_then_lose": (
            "该商家拒绝了{whole}笔申请，其后在平台调解中败诉{part}笔（比例{share}；"
            "政策规定：至少{minimum}笔拒绝且比例达到{min_share}即提示）。"
        ),
        "buyer-claim-rate-limit": (
            "您在{window}内已发起{count}笔申请，已达政策上限；您可于{retry_at}起再次发起申请。"
        ),
    },
}


def language(accept_language: str | None) -> str:
    """The first of the caller's languages (``Accept-Language``) that we write in, else the default."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag in ("zh", "zh-cn", "zh-hans", "zh-hans-cn"):
            return "zh-CN"
        if tag == "en" or tag.startswith("en-"):
            return "en"
    return DEFAULT_LANGUAGE


def text(key: str, lang: str, **values: Any) -> str:
    """The text ``key`` in ``lang`` (the default language for one we do not write in)."""
    return TEXTS.get(lang, TEXTS[DEFAULT_LANGUAGE])[key].format(**values)


def duration_text(seconds: float, lang: str) -> str:
    """``30 days`` / ``30天``, ``72 hours`` / ``72小时``: a policy window for people."""
    days, rest = divmod(int(seconds), 86_400)
    if rest == 0:
        return f"{days}天" if lang == "zh-CN" else f"{days} day{'s' if days != 1 else ''}"
    hours = int(seconds) // 3600
    return f"{hours}小时" if lang == "zh-CN" else f"{hours} hour{'s' if hours != 1 else ''}"
