"""Admins issue, list and revoke tokens over HTTP; revoked and expired tokens are refused at once."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import httpx

from disputes.adapters.principals import hash_token
from support.http import START, Api, rfc3339


def issue(api: Api, **body: Any) -> dict[str, Any]:
    answer = api.post("adm1", "/principals", json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_admin_issues_a_token_that_works_at_once_and_is_shown_only_once(api: Api) -> None:
    created = issue(api, role="merchant", id="m7")
    assert (created["role"], created["id"], created["status"]) == ("merchant", "m7", "active")
    assert created["expires_at"] is None and created["revoked_at"] is None
    assert created["created_at"] == rfc3339(START)
    assert created["token"].startswith(f"dsp_{created['token_id']}_")
    claim = api.open_claim("b1", merchant_id="m7")
    answer = api.get(None, f"/claims/{claim['id']}", headers=bearer(created["token"]))
    assert answer.status_code == 200, answer.text

    listed = api.get("adm1", "/principals").json()
    mine = [p for p in listed if p["token_id"] == created["token_id"]]
    assert mine == [{k: v for k, v in created.items() if k != "token"}]
    text = api.get("adm1", "/principals").text
    assert created["token"] not in text and hash_token(created["token"]) not in text


def test_a_revoked_token_gets_401_on_its_very_next_request(api: Api) -> None:
    created = issue(api, role="auditor", id="aud9")
    claim = api.open_claim()
    path = f"/claims/{claim['id']}"
    assert api.get(None, path, headers=bearer(created["token"])).status_code == 200
    revoked = api.send("adm1", "DELETE", f"/principals/{created['token_id']}")
    assert revoked.status_code == 200, revoked.text
    assert (revoked.json()["status"], revoked.json()["revoked_at"]) == ("revoked", rfc3339(START))
    Api.problem(api.get(None, path, headers=bearer(created["token"])), 401)
    again = api.send("adm1", "DELETE", f"/principals/{created['token_id']}")
    assert (again.status_code, again.json()) == (200, revoked.json())  # changes nothing
    assert api.get("aud1", path).status_code == 200  # other tokens still work


def test_a_token_expires_at_its_time_or_after_its_ttl(api: Api) -> None:
    at_time = issue(api, role="auditor", id="aud8", expires_at=rfc3339(START + timedelta(hours=1)))
    after_ttl = issue(api, role="auditor", id="aud7", ttl_seconds=60)
    assert after_ttl["expires_at"] == rfc3339(START + timedelta(seconds=60))
    claim = api.open_claim()
    path = f"/claims/{claim['id']}"
    for created in (at_time, after_ttl):
        assert api.get(None, path, headers=bearer(created["token"])).status_code == 200
    api.clock.advance(seconds=60)
    Api.problem(api.get(None, path, headers=bearer(after_ttl["token"])), 401)
    assert api.get(None, path, headers=bearer(at_time["token"])).status_code == 200
    api.clock.advance(minutes=59)
    Api.problem(api.get(None, path, headers=bearer(at_time["token"])), 401)
    statuses = {p["id"]: p["status"] for p in api.get("adm1", "/principals").json()}
    assert (statuses["aud8"], statuses["aud7"]) == ("expired", "expired")


def test_only_admins_manage_principals_and_without_a_token_it_is_401(api: Api) -> None:
    created = issue(api, role="buyer", id="b9")
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/principals", {"json": {"role": "admin", "id": "evil"}}),
        ("GET", "/principals", {}),
        ("DELETE", f"/principals/{created['token_id']}", {}),
    ]
    for method, path, kwargs in requests:
        for who in ("b1", "m1", "med1", "aud1", "reg1"):
            body = Api.problem(api.send(who, method, path, **kwargs), 403)
            assert body["type"] == "/problems/forbidden-role"
        Api.problem(api.send(None, method, path, **kwargs), 401)
    assert [p["id"] for p in api.get("adm1", "/principals").json() if p["role"] == "admin"] == ["adm1"]
    assert {p["token_id"]: p["status"] for p in api.get("adm1", "/principals").json()}[
        created["token_id"]
    ] == "active"


def test_bad_principals_get_422_and_issue_nothing(api: Api) -> None:
    bad: list[Any] = [
        {"role": "system", "id": "x"},
        {"role": "king", "id": "x"},
        {"role": "buyer"},
        {"role": "buyer", "id": ""},
        {"role": "buyer", "id": "has space"},
        {"role": "buyer", "id": "-leading-dash"},
        {"role": "buyer", "id": "x" * 65},
        {"role": "buyer", "id": "x", "expires_at": "2026-11-21T09:00:00"},
        {"role": "buyer", "id": "x", "expires_at": "tomorrow"},
        {"role": "buyer", "id": "x", "expires_at": rfc3339(START)},
        {"role": "buyer", "id": "x", "expires_at": rfc3339(START - timedelta(days=1))},
        {"role": "buyer", "id": "x", "ttl_seconds": 0},
        {"role": "buyer", "id": "x", "ttl_seconds": "60"},
        {"role": "buyer", "id": "x", "ttl_seconds": 60, "expires_at": rfc3339(START + timedelta(days=1))},
        {"role": "buyer", "id": "x", "token": "dsp_chosen"},
        ["buyer", "x"],
    ]
    before = len(api.get("adm1", "/principals").json())
    for body in bad:
        Api.problem(api.post("adm1", "/principals", json=body), 422)
    Api.problem(api.send("adm1", "DELETE", "/principals/not-an-id"), 422)
    Api.problem(api.send("adm1", "DELETE", "/principals/AAAAAAAAAAAA"), 404)
    assert len(api.get("adm1", "/principals").json()) == before


def test_the_last_active_admin_token_cannot_be_revoked_over_http(api: Api) -> None:
    own = next(p for p in api.get("adm1", "/principals").json() if p["id"] == "adm1")
    refused = Api.problem(api.send("adm1", "DELETE", f"/principals/{own['token_id']}"), 409)
    assert refused["type"] == "/problems/last-admin-token"
    second = issue(api, role="admin", id="adm2")
    assert api.send("adm1", "DELETE", f"/principals/{own['token_id']}").status_code == 200
    Api.problem(api.get("adm1", "/principals"), 401)
    refused = api.send(None, "DELETE", f"/principals/{second['token_id']}", headers=bearer(second["token"]))
    assert Api.problem(refused, 409)["type"] == "/problems/last-admin-token"


def test_two_admins_revoking_each_other_at_once_leave_one_admin(api: Api) -> None:
    first, second = issue(api, role="admin", id="adm3"), issue(api, role="admin", id="adm4")
    own = next(p for p in api.get("adm1", "/principals").json() if p["id"] == "adm1")
    assert api.send("adm1", "DELETE", f"/principals/{own['token_id']}").status_code == 200
    answers: list[int] = []

    def revoke(holder: dict[str, Any], target: dict[str, Any]) -> None:
        with httpx.Client(base_url=api.http.base_url, timeout=30) as http:
            answer = http.delete(f"/principals/{target['token_id']}", headers=bearer(holder["token"]))
        answers.append(answer.status_code)

    threads = [
        threading.Thread(target=revoke, args=(first, second)),
        threading.Thread(target=revoke, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = {r.principal_id: r.status(api.clock()) for r in api.principals.list()}
    assert sorted(answers) in ([200, 401], [200, 409])
    assert [statuses["adm3"], statuses["adm4"]].count("active") == 1


def test_an_idempotency_key_never_keeps_or_replays_a_token(api: Api) -> None:
    headers = {"Idempotency-Key": "issue-1"}
    first = api.post("adm1", "/principals", json={"role": "buyer", "id": "b5"}, headers=headers)
    retry = api.post("adm1", "/principals", json={"role": "buyer", "id": "b5"}, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers
    assert first.json()["token"] != retry.json()["token"]
    tokens = [p for p in api.get("adm1", "/principals").json() if p["id"] == "b5"]
    assert len(tokens) == 2  # the retry issued a second token, which an admin can revoke
