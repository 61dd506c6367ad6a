"""A claim's signals for the mediators (``GET /claims/{claim_id}/signals``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class SignalPublic(BaseModel):
    signal: str = Field(examples=["serial_refund_only"])
    severity: str = Field(examples=["high", "medium"])
    explanation: str = Field(description="why, in plain words (Accept-Language: en or zh-CN)")
    claims: list[str] = Field(description="the claims behind the signal (at most 100; figures count them all)")
    digests: list[str] = Field(description="shared_evidence: the evidence sha256 digests behind it")
    figures: dict[str, Any] = Field(description="the counts and rates the policy's thresholds were held against")
    policy_version: str = Field(description="the policy whose [signals] thresholds were applied")
