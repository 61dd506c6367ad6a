"""A claim's history and timeline a page at a time over HTTP: `limit` and `after_version`, and a
`Link: <...>; rel="next"` (RFC 8288) while more follow. The pages put together are the whole history,
with and without `diff`, and as it stood at `as_of`; without parameters a short claim reads as before."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest

from disputes.api.schemas.history import HistoryEntry
from disputes.domain.parties import Actor, Role
from support import reads as reads_support
from support.http import START, Api, rfc3339

reads_api = reads_support.reads_api
MESSAGES = 11
"""Messages posted after the opening, an hour apart: the claim has 12 events."""
LINK = re.compile(r'^<(/[^>]*)>; rel="next"$')


def long_claim(api: Api) -> str:
    claim_id = str(api.open_claim()["id"])
    for n in range(MESSAGES):
        api.clock.advance(hours=1)
        api.act("b1" if n % 2 else "m1", claim_id, "messages", {"body": f"message {n}"})
    return claim_id


def next_page(answer: httpx.Response) -> str | None:
    """The next page's reference from the answer's Link header, if there is one."""
    header = answer.headers.get("Link")
    if header is None:
        return None
    match = LINK.match(header)
    assert match is not None, header
    return match[1]


def all_pages(api: Api, who: str, first: str, key: Any = None) -> tuple[list[Any], int]:
    """Follow Link rel=next from ``first``: every page's items in order, and how many pages."""
    items: list[Any] = []
    pages = 0
    url: str | None = first
    while url is not None:
        answer = api.get(who, url)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        page = body if key is None else body[key]
        assert page, f"{url}: an empty page behind a Link rel=next"
        items += page
        pages += 1
        url = next_page(answer)
    return items, pages


def test_without_parameters_a_claim_under_the_default_limit_reads_whole_and_without_a_link(api: Api) -> None:
    claim_id = long_claim(api)

    answer = api.get("b1", f"/claims/{claim_id}/history")

    assert answer.status_code == 200 and "Link" not in answer.headers
    assert [e["version"] for e in answer.json()] == list(range(1, MESSAGES + 2))
    # Entry for entry what the whole history said before paging: every event, in its public form.
    every_event = api.container.app.history(Actor(Role.BUYER, "b1"), claim_id)
    assert answer.json() == [HistoryEntry.of(record).model_dump(mode="json") for record in every_event]


@pytest.mark.parametrize("diff", [False, True])
def test_the_pages_of_a_history_put_together_are_the_whole_history(api: Api, diff: bool) -> None:
    claim_id = long_claim(api)
    flag = "&diff=true" if diff else ""
    whole = api.get("b1", f"/claims/{claim_id}/history?{flag[1:]}").json()

    first = api.get("b1", f"/claims/{claim_id}/history?limit=5{flag}")
    assert [e["version"] for e in first.json()] == [1, 2, 3, 4, 5]
    assert next_page(first) == f"/claims/{claim_id}/history?limit=5{flag}&after_version=5"
    pages, count = all_pages(api, "b1", f"/claims/{claim_id}/history?limit=5{flag}")

    assert pages == whole and count == 3  # 5 + 5 + 2
    if diff:
        assert pages[0]["changes"]["status"] == {"before": None, "after": "awaiting_merchant"}
        assert all(entry["changes"] == {} for entry in pages[1:])  # a message changes no public field
    exact = api.get("b1", f"/claims/{claim_id}/history?limit=6&after_version=6{flag}")
    assert [e["version"] for e in exact.json()] == list(range(7, 13)) and next_page(exact) is None


def test_the_pages_of_a_history_as_of_a_moment_are_what_was_recorded_by_then(api: Api) -> None:
    claim_id = long_claim(api)
    moment = rfc3339(START + timedelta(hours=7, minutes=30))
    whole = api.get("aud1", f"/claims/{claim_id}/history").json()
    then = [entry for entry in whole if entry["recorded_at"] <= moment]
    assert len(then) == 8  # the opening and the messages of hours 1 to 7

    for diff in ("false", "true"):
        pages, count = all_pages(api, "med1", f"/claims/{claim_id}/history?limit=3&diff={diff}&as_of={moment}")
        assert [e["version"] for e in pages] == [e["version"] for e in then] and count == 3
    assert all_pages(api, "aud1", f"/claims/{claim_id}/history?limit=3&as_of={moment}")[0] == then

    refused = api.get("b1", f"/claims/{claim_id}/history", params={"as_of": moment})
    assert Api.problem(refused, 403, claim_id=claim_id)["type"] == "/problems/not-permitted"
    before = api.get("aud1", f"/claims/{claim_id}/history", params={"as_of": rfc3339(START - timedelta(hours=1))})
    assert Api.problem(before, 404)["type"] == "/problems/version-not-found"


@pytest.mark.parametrize(
    ("params", "language"),
    [
        ({"limit": 0}, "en"),
        ({"limit": 1001}, "zh-CN"),
        ({"limit": "many"}, "en"),
        ({"after_version": -1}, "zh-CN"),
        ({"as_of": "yesterday"}, "en"),
    ],
)
def test_a_bad_page_parameter_is_a_422_problem_in_the_callers_language(
    api: Api, params: dict[str, Any], language: str
) -> None:
    claim_id = api.open_claim()["id"]

    answer = api.get("aud1", f"/claims/{claim_id}/history", params=params, headers={"Accept-Language": language})

    problem = Api.problem(answer, 422)
    assert problem["type"] == "/problems/validation-error"
    assert answer.headers["Content-Language"] == language
    if language == "zh-CN":
        assert re.search(r"[\u4e00-\u9fff]", problem["detail"]), problem


def test_the_pages_of_a_timeline_put_together_are_the_whole_timeline(reads_api: Api) -> None:
    claim_id = long_claim(reads_api)
    head = reads_api.container.app.recorder.max_notification_id()
    whole = reads_api.get("b1", f"/claims/{claim_id}/timeline", params={"min_position": head})
    assert whole.status_code == 200 and "Link" not in whole.headers

    first = reads_api.get("b1", f"/claims/{claim_id}/timeline?limit=4&min_position={head}")
    assert first.json()["next"] == whole.json()["next"] and first.json()["version"] == MESSAGES + 1
    entries, count = all_pages(reads_api, "b1", f"/claims/{claim_id}/timeline?limit=4&min_position={head}", "entries")

    assert entries == whole.json()["entries"] and count == 3
    reads_api.problem(reads_api.get("b1", f"/claims/{claim_id}/timeline", params={"limit": 1001}), 422)
