"""The OpenAPI document as a client generator reads it, checked against the answers the server gives."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest

from support.http import Api

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
METHODS = ("get", "put", "post", "delete", "patch")


def _document(api: Api) -> dict[str, Any]:
    answer = api.get(None, "/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def _declared_headers(document: dict[str, Any], method: str, path: str, status: int) -> set[str]:
    response = document["paths"][path][method]["responses"][str(status)]
    return {name.lower() for name in response.get("headers", {})}


def test_every_operation_has_a_unique_camel_case_operation_id_a_one_line_summary_a_description_and_a_described_tag(
    api: Api,
) -> None:
    document = _document(api)
    operations = _operations(document)
    assert len(operations) > 40
    ids = [operation.get("operationId", "") for _, _, operation in operations]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", i)] == []
    described = {tag["name"] for tag in document["tags"] if tag.get("description")}
    for method, path, operation in operations:
        where = f"{method.upper()} {path}"
        summary = operation.get("summary", "")
        assert summary.strip() and "\n" not in summary, where
        # Not the words FastAPI makes up from the function's name.
        assert summary != re.sub(r"(?<!^)(?=[A-Z])", " ", operation["operationId"]).title(), where
        assert operation.get("description", "").strip(), where
        assert operation.get("tags") and set(operation["tags"]) <= described, where


def test_keyed_posts_declare_idempotency_key_commands_declare_if_match_and_every_schema_is_used(api: Api) -> None:
    document = _document(api)
    for method, path, operation in _operations(document):
        headers = {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}
        assert "x-request-id" in headers, path
        if method == "post" and path not in ("/exports", "/principals"):
            assert "idempotency-key" in headers, path
            success = next(status for status in operation["responses"] if status.startswith("2"))
            assert "Idempotent-Replayed" in operation["responses"][success]["headers"]
        if method == "post" and path.startswith("/claims/{claim_id}/"):
            assert "if-match" in headers, path
            assert {"ETag", "X-Disputes-Position"} <= set(operation["responses"]["200"]["headers"]), path
    schemas = document["components"]["schemas"]
    reached = _refs(document["paths"])
    while True:
        more = reached | set().union(*(_refs(schemas[name]) for name in reached))
        if more == reached:
            break
        reached = more
    assert set(schemas) - reached == set()
    assert not [name for name in schemas if "__" in name], "schema names a generator can use"


def test_every_request_body_has_an_example_its_schema_accepts(api: Api) -> None:
    document = _document(api)
    bodies = 0
    for method, path, operation in _operations(document):
        if "requestBody" not in operation:
            continue
        media = operation["requestBody"]["content"]["application/json"]
        assert "example" in media, f"{method.upper()} {path}"
        validator = jsonschema_rs.validator_for({**media["schema"], "components": document["components"]})
        errors = [error.message for error in validator.iter_errors(media["example"])]
        assert errors == [], f"{method.upper()} {path}: {errors}"
        bodies += 1
    assert bodies >= 20


def test_every_error_answer_names_problem_types_that_resolve_to_their_documentation(api: Api) -> None:
    document = _document(api)
    listed: dict[str, set[int]] = {}
    for _, _, operation in _operations(document):
        for status, response in operation["responses"].items():
            if status[0] in "45":
                assert "application/problem+json" in response["content"]
                for kind in response.get("x-problem-types", []):
                    assert kind in response["description"]
                    listed.setdefault(kind, set()).add(int(status))
    assert {"/problems/stale-version", "/problems/claim-not-found", "/problems/idempotency-key-reused"} <= set(listed)
    for kind, statuses in sorted(listed.items()):
        page = api.get(None, kind, headers={"Accept": "application/json"})
        assert page.status_code == 200, kind
        assert page.json()["type"] == kind and page.json()["status"] in statuses, kind
    html = api.get(None, "/problems/stale-version")
    assert html.headers["content-type"].startswith("text/html")
    assert "Claim version does not match If-Match" in html.text and "412" in html.text
    index = api.get(None, "/problems")
    assert index.status_code == 200 and 'href="/problems/stale-version"' in index.text
    unknown = api.get(None, "/problems/no-such-thing")
    Api.problem(unknown, 404)


def test_the_declared_response_headers_are_on_the_real_answers(api: Api) -> None:
    document = _document(api)

    def check(answer: Any, method: str, path: str, *, replayed: bool = False) -> None:
        declared = _declared_headers(document, method, path, answer.status_code)
        if not replayed:
            declared.discard("idempotent-replayed")
        missing = {name for name in declared if name not in answer.headers}
        assert missing == set(), f"{method.upper()} {path} {answer.status_code}"

    api.record_order("order-1", delivered_at=None, buyer_id="b1")
    body = {"order_id": "order-1", "kind": "refund_only", "reason": "not_received", "claimed_amount": "80.00", "description": "Never came."}
    opened = api.post("b1", "/claims", json=body)
    assert opened.status_code == 201
    check(opened, "post", "/claims")
    assert opened.headers["Location"] == f"/claims/{opened.json()['id']}"
    claim = opened.json()["id"]
    path = "/claims/{claim_id}/messages"
    keyed = {"Idempotency-Key": "k-1"}
    first = api.post("b1", f"/claims/{claim}/messages", json={"body": "Hello"}, headers=keyed)
    again = api.post("b1", f"/claims/{claim}/messages", json={"body": "Hello"}, headers=keyed)
    check(first, "post", path)
    check(again, "post", path, replayed=True)
    assert again.headers["Idempotent-Replayed"] == "true"
    check(api.get("b1", f"/claims/{claim}"), "get", "/claims/{claim_id}")
    check(api.get("b1", "/claims?min_position=1"), "get", "/claims")
    stale = api.post("b1", f"/claims/{claim}/messages", json={"body": "Hi"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    check(stale, "post", path)
    behind = api.get("b1", "/claims?min_position=999999")
    assert behind.status_code == 503
    check(behind, "get", "/claims")


def test_the_interactive_docs_load_only_what_the_server_itself_serves(api: Api) -> None:
    for page in ("/docs", "/redoc"):
        answer = api.get(None, page)
        assert answer.status_code == 200
        assert "cdn" not in answer.text.lower() and "https://" not in answer.text
        csp = answer.headers["Content-Security-Policy"]
        assert "https:" not in csp and "script-src 'self'" in csp
        assets = re.findall(r'(?:src|href)="(/[^"]+)"', answer.text)
        assert assets, page
        for asset in assets:
            assert api.get(None, asset).status_code == 200, asset
    index = api.get(None, "/")
    assert index.status_code == 200
    links = index.json()["links"]
    assert {links["docs"], links["redoc"], links["policy"], links["openapi"]} == {"/docs", "/redoc", "/policy", "/openapi.json"}
    for name in ("docs", "redoc", "openapi", "problems", "health", "metrics"):
        assert api.get(None, links[name]).status_code == 200, name


def test_the_type_of_every_domain_problem_resolves_to_its_documentation(api: Api) -> None:
    from disputes.domain import errors

    todo, codes = [errors.DisputesError], set()
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls is not errors.DisputesError:
            codes.add((cls.code, cls.status))
    for code, status in sorted(codes):
        page = api.get(None, f"/problems/{code}", headers={"Accept": "application/json"})
        assert page.status_code == 200, code
        assert page.json()["status"] == status, code
