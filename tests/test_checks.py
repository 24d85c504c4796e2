"""Verdicts on hand-made answers: each check with a conformant and a non-conformant response."""

from __future__ import annotations

import pytest

from conformance.catalogue import load_catalogue
from conformance.checks import judge, judge_no_answer
from conformance.model import (
    ApiKeyPlacement,
    BasicCredential,
    Case,
    Endpoint,
    Exchange,
    Scheme,
    Secret,
    Target,
)

ITEMS = Endpoint("GET", "/items")


def make_target(scheme: Scheme = "bearer", **extra: object) -> Target:
    credentials: dict[str, object]
    if scheme == "basic":
        credentials = {"admin": BasicCredential("alice", Secret("pw-alice")), "reader": BasicCredential("bob", Secret("pw-bob"))}
    else:
        credentials = {"admin": Secret("admin-token-0123456789"), "reader": Secret("reader-token-0123456789")}
    placement = ApiKeyPlacement("header", "X-API-Key") if scheme == "api_key" else None
    return Target("t", scheme, "http://127.0.0.1:1", (ITEMS,), credentials, api_key=placement, **extra)  # type: ignore[arg-type]


def answer(status: int, *challenges: str, body: bytes = b'{"error": "x"}', location: str | None = None) -> Exchange:
    lines = [("WWW-Authenticate", c) for c in challenges]
    if location:
        lines.append(("Location", location))
    return Exchange(status, "", tuple(lines), body)


def failing_ids(scheme: Scheme, kind: str, variant: str | None, exchange: Exchange, **extra: object) -> set[str]:
    verdict = judge(make_target(scheme, **extra), Case("t", ITEMS, kind, variant), exchange)  # type: ignore[arg-type]
    return {f.requirement for f in verdict.failures}


def warning_ids(scheme: Scheme, kind: str, variant: str | None, exchange: Exchange) -> set[str]:
    verdict = judge(make_target(scheme), Case("t", ITEMS, kind, variant), exchange)  # type: ignore[arg-type]
    return {f.requirement for f in verdict.warnings}


BEARER_OK = 'Bearer realm="api"'
BEARER_INVALID = 'Bearer realm="api", error="invalid_token"'

VERDICTS = [
    # (scheme, kind, variant, answer, failing requirement IDs)
    ("bearer", "valid", "admin", answer(200), set()),
    ("bearer", "valid", "admin", answer(401, BEARER_INVALID), {"R6750-HDR-SUPPORT"}),
    ("bearer", "missing", None, answer(401, BEARER_OK), set()),
    ("bearer", "missing", None, answer(401), {"R9110-401-CHALLENGE"}),
    ("bearer", "missing", None, answer(403), {"R9110-401-ON-FAILURE", "R6750-WWWA-REQUIRED"}),
    ("bearer", "missing", None, answer(302, location="/login"), {"R9110-401-ON-FAILURE"}),
    ("bearer", "missing", None, answer(200), {"R9110-401-ON-FAILURE"}),
    ("bearer", "missing", None, answer(401, 'Basic realm="api"'), {"R6750-SCHEME"}),
    ("bearer", "missing", None, answer(401, "Bearer realm=api"), {"R9110-REALM-QUOTED"}),
    ("bearer", "malformed", "garbage", answer(400, 'Bearer realm="api", error="invalid_request"'), set()),
    ("bearer", "malformed", "garbage", answer(500, body=b"Traceback"), {"R9110-NO-5XX"}),
    ("bearer", "malformed", "garbage", answer(422, BEARER_INVALID), {"R9110-401-ON-FAILURE"}),
    ("bearer", "malformed", "over-long", answer(431, body=b"too large"), set()),
    ("bearer", "wrong", "random-token", answer(401, BEARER_INVALID), set()),
    ("bearer", "wrong", "random-token", answer(401, 'Bearer realm="api", error="Invalid_Token"'), {"R6750-ERROR-VALUES"}),
    ("bearer", "expired", None, answer(200), {"R6750-TOKEN-LIFETIME"}),
    ("bearer", "expired", None, answer(400, body=b"JWT expired"), {"R9110-401-ON-FAILURE", "R6750-WWWA-REQUIRED"}),
    ("bearer", "unprivileged", "reader", answer(403, 'Bearer realm="api", error="insufficient_scope"'), set()),
    ("bearer", "unprivileged", "reader", answer(403), {"R6750-WWWA-REQUIRED"}),
    ("bearer", "unprivileged", "reader", answer(200), {"R6749-RS-VALIDATE"}),
    ("basic", "missing", None, answer(401, 'Basic realm="api"'), set()),
    ("basic", "missing", None, answer(401, "Basic"), {"R7617-REALM"}),
    ("basic", "missing", None, answer(401, 'Basic realm="api", charset="latin1"'), {"R7617-CHARSET"}),
    ("basic", "wrong", "wrong-password", answer(403, body=b"Invalid username/password."), {"R9110-401-ON-FAILURE"}),
    ("basic", "malformed", "no-colon", answer(400, body=b"bad header"), set()),
    ("basic", "unprivileged", "reader", answer(403, body=b"no permission"), set()),
    ("api_key", "missing", None, answer(401, 'APIKey realm="api"'), set()),
    ("api_key", "missing", None, answer(401), {"R9110-401-CHALLENGE"}),
]


@pytest.mark.parametrize(
    ("scheme", "kind", "variant", "exchange", "expected"),
    VERDICTS,
    ids=[f"{s}-{k}-{v}-{e.status}-{i}" for i, (s, k, v, e, _) in enumerate(VERDICTS)],
)
def test_answer_gets_the_expected_verdict(scheme: Scheme, kind: str, variant: str | None, exchange: Exchange, expected: set[str]) -> None:
    assert failing_ids(scheme, kind, variant, exchange) == expected


def test_403_with_challenge_for_missing_is_a_warning() -> None:
    # Given a Bearer challenge on a 403, the client still learns how to authenticate.
    exchange = answer(403, BEARER_OK)

    assert failing_ids("bearer", "missing", None, exchange) == set()
    assert warning_ids("bearer", "missing", None, exchange) == {"R9110-401-ON-FAILURE"}


def test_error_code_on_missing_token_is_a_warning() -> None:
    exchange = answer(401, BEARER_INVALID)

    assert warning_ids("bearer", "missing", None, exchange) == {"R6750-NO-ERROR-IF-NO-AUTH"}


def test_bare_bearer_challenge_is_a_warning() -> None:
    assert warning_ids("bearer", "missing", None, answer(401, "Bearer")) == {"R6750-PARAM-REQUIRED"}


def test_strict_mode_fails_on_warnings() -> None:
    target, case = make_target(), Case("t", ITEMS, "missing")

    lenient = judge(target, case, answer(401, "Bearer"))
    strict = judge(target, case, answer(401, "Bearer"), strict=True)

    assert (lenient.outcome, strict.outcome) == ("pass", "fail")


def test_waived_finding_neither_fails_nor_passes() -> None:
    target = make_target(waive={"R9110-401-CHALLENGE": "our gateway strips the header"})

    verdict = judge(target, Case("t", ITEMS, "missing"), answer(401))

    waived = [f for f in verdict.findings if f.waived]
    assert verdict.outcome == "pass"
    assert [(f.requirement, f.passed, f.waived) for f in waived] == [("R9110-401-CHALLENGE", False, "our gateway strips the header")]


def test_leak_marker_in_refusal_body_fails() -> None:
    exchange = answer(401, BEARER_OK, body=b'{"error": "no", "items": ["top-secret-row"]}')

    assert failing_ids("bearer", "missing", None, exchange, leak_marker="top-secret-row") == {"R6749-RS-VALIDATE"}


def test_dropped_connection_on_over_long_header_is_a_warning() -> None:
    verdict = judge_no_answer(make_target(), Case("t", ITEMS, "malformed", "over-long"), "connection reset")

    assert verdict is not None and verdict.outcome == "pass"
    assert [f.requirement for f in verdict.warnings] == ["R9110-FIELD-TOO-LARGE"]


def test_other_unanswered_probes_cannot_be_judged() -> None:
    assert judge_no_answer(make_target(), Case("t", ITEMS, "missing"), "connection refused") is None


def test_every_cited_requirement_is_in_the_catalogue() -> None:
    # Every ID a check can cite appears literally in checks.py; an unknown
    # one would raise at run time, so find them all here first.
    import re
    from pathlib import Path

    import conformance.checks as checks

    source = Path(checks.__file__).read_text(encoding="utf-8")
    cited = set(re.findall(r'"(R[0-9A-Z]+-[A-Z0-9-]+)"', source))

    assert cited, "the pattern found no requirement IDs"
    assert cited <= set(load_catalogue())
