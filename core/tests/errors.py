"""The API's one error body (core.api_errors), checked the same way by every app's tests."""

PROBLEM_KEYS = {"where", "message", "code", "location", "location_crs"}


def assert_error_body(body) -> None:
    assert isinstance(body, dict) and set(body) == {"detail", "code", "errors"}, body
    assert isinstance(body["detail"], str) and body["detail"], body
    assert isinstance(body["code"], str) and body["code"], body
    assert isinstance(body["errors"], list), body
    for problem in body["errors"]:
        assert isinstance(problem, dict) and {"where", "message"} <= set(problem), body
        assert set(problem) <= PROBLEM_KEYS, body
        assert isinstance(problem["where"], str) and isinstance(problem["message"], str), body
        assert isinstance(problem.get("code", ""), str), body
        if "location" in problem:
            location = problem["location"]
            assert len(location) == 2 and all(isinstance(v, int | float) for v in location)


def refusal(response, status: int, code: str | None = None) -> dict[str, list[str]]:
    """Asserts an error answer of `status` (and `code`) in the one error body; its problems as
    where -> messages."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    body = response.json()
    assert_error_body(body)
    if code is not None:
        assert body["code"] == code, body
    problems: dict[str, list[str]] = {}
    for problem in body["errors"]:
        problems.setdefault(problem["where"], []).append(problem["message"])
    return problems
