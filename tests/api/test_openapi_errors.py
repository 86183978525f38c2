"""The OpenAPI schema documents each route's error answers (api/responses.py), and real refusals match it."""

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nnplayground.api.responses import ErrorOut
from nnplayground.config import Settings

ERROR_REF = "#/components/schemas/ErrorOut"
METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # No slow answer to an unknown room code: the 404 below would wait for it.
    return Settings(data_dir=tmp_path / "data", join_failure_delay_seconds=0.0)  # type: ignore[arg-type]


@pytest.fixture
def schema(client: TestClient) -> dict[str, Any]:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


def responses(schema: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return schema["paths"][path][method]["responses"]


def error_codes(schema: dict[str, Any], method: str, path: str) -> set[int]:
    """The codes this operation documents with the ErrorOut body."""
    return {
        int(code)
        for code, answer in responses(schema, method, path).items()
        if answer.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref") == ERROR_REF
    }


def test_error_out_is_a_component(schema: dict[str, Any]) -> None:
    error_out = schema["components"]["schemas"]["ErrorOut"]
    assert error_out["required"] == ["detail"]
    assert error_out["properties"]["detail"]["type"] == "string"


@pytest.mark.parametrize(
    ("method", "path", "codes"),
    [
        ("get", "/api/sessions/{session_id}", {401, 403, 404}),
        ("patch", "/api/sessions/{session_id}", {401, 403, 404, 413}),
        ("post", "/api/sessions", {413, 429}),
        ("post", "/api/rooms/{code}/join", {404, 409, 410, 413, 429}),
        ("post", "/api/rooms/{code}/pause", {401, 403, 404, 410, 429}),
        ("get", "/api/rooms/{code}/results.csv", {401, 403, 404, 429}),
        ("post", "/api/sessions/{session_id}/data", {401, 403, 404, 413}),
        ("get", "/api/lessons/{lesson_id}", {404}),
        ("get", "/api/sessions/{session_id}/export", {401, 403, 404, 501}),
        ("post", "/api/sessions/import", {413, 429}),
    ],
)
def test_representative_routes_document_their_errors(
    schema: dict[str, Any], method: str, path: str, codes: set[int]
) -> None:
    assert error_codes(schema, method, path) == codes
    for code in codes:
        assert responses(schema, method, path)[str(code)]["description"], f"{code} needs a description"


def test_422_keeps_fastapis_shape(schema: dict[str, Any]) -> None:
    answer = responses(schema, "post", "/api/sessions")["422"]
    assert answer["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/HTTPValidationError"
    assert "422" in responses(schema, "post", "/api/sessions/import")


def test_every_bearer_route_documents_401_and_403(schema: dict[str, Any]) -> None:
    bearer = [
        (method, path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS and operation.get("security")
    ]
    assert len(bearer) > 30  # the session, run and room routes
    missing = [(m, p) for m, p in bearer if not {401, 403} <= error_codes(schema, m, p)]
    assert missing == []


def test_routes_without_a_token_document_no_401(schema: dict[str, Any]) -> None:
    open_routes = [
        (method, path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS and not operation.get("security")
    ]
    assert ("get", "/api/health") in open_routes
    assert [(m, p) for m, p in open_routes if {401, 403} & error_codes(schema, m, p)] == []


def test_real_refusals_are_documented(client: TestClient, schema: dict[str, Any], new_session: Any) -> None:
    """Each refusal's code is listed on its route and its body is an ErrorOut."""
    session = new_session()
    room = client.post("/api/rooms", json={"name": "r", "max_students": 1})
    assert room.status_code == 201, room.text
    code = room.json()["code"]
    assert client.post(f"/api/rooms/{code}/join", json={"nickname": "a"}).status_code == 201
    expired = client.post("/api/rooms", json={"name": "e"}).json()
    teacher = {"Authorization": f"Bearer {expired['teacher_token']}"}
    assert client.post(f"/api/rooms/{expired['code']}/expire", headers=teacher).status_code == 200
    too_big = {"data": {"dataset": "x" * 70_000}}  # over the default max_message_bytes (64 KiB)
    cases = [
        ("get", "/api/sessions/{session_id}", f"/api/sessions/{session.id}", {}, 401),
        ("get", "/api/sessions/{session_id}", f"/api/sessions/{session.id}", {"Authorization": "Bearer no"}, 403),
        ("get", "/api/sessions/{session_id}", "/api/sessions/nosuch", session.headers, 404),
        ("get", "/api/lessons/{lesson_id}", "/api/lessons/nosuch", {}, 404),
        ("post", "/api/rooms/{code}/join", f"/api/rooms/{code}/join", {}, 409),
        ("post", "/api/rooms/{code}/join", "/api/rooms/ZZZZZZ/join", {}, 404),
        ("post", "/api/rooms/{code}/join", f"/api/rooms/{expired['code']}/join", {}, 410),
        ("patch", "/api/sessions/{session_id}", f"/api/sessions/{session.id}", session.headers, 413),
        ("post", "/api/rooms/{code}/pause", f"/api/rooms/{code}/pause", {}, 401),
        ("post", "/api/rooms/{code}/pause", f"/api/rooms/{code}/pause", session.headers, 403),
    ]
    for method, template, url, headers, expected in cases:
        body = {"nickname": "b"} if template.endswith("/join") else too_big if method == "patch" else None
        r = client.request(method, url, headers=headers, json=body)
        assert r.status_code == expected, (url, r.text)
        assert expected in error_codes(schema, method, template), (method, template, expected)
        ErrorOut.model_validate(r.json())
