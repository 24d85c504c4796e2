"""Verdicts on hand-made answers: each check with a conformant and a non-conformant response."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

import conformance.challenges as challenges
import conformance.checks as checks
from conformance.cases import expected_answer
from conformance.catalogue import load_catalogue
from conformance.checks import judge, judge_no_answer
from conformance.model import (
    ApiKeyPlacement,
    BasicCredential,
    Case,
    Endpoint,
    Exchange,
    Grade,
    Scheme,
    Secret,
    Target,
    Verdict,
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


def answer(
    status: int,
    *challenges: str,
    body: bytes = b'{"error": "x"}',
    location: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Exchange:
    lines = [("WWW-Authenticate", c) for c in challenges]
    if location:
        lines.append(("Location", location))
    return Exchange(status, "", (*lines, *headers), body)


def judged(scheme: Scheme, kind: str, variant: str | None, exchange: Exchange, control_body: bytes | None = None, **extra: object) -> Verdict:
    return judge(make_target(scheme, **extra), Case("t", ITEMS, kind, variant), exchange, control_body=control_body)  # type: ignore[arg-type]


def flagged(verdict: Verdict) -> dict[str, Grade]:
    """Every requirement the verdict finds broken, with what it costs."""
    return {f.requirement: f.grade for f in verdict.findings if not f.passed and not f.waived}


def failing_ids(scheme: Scheme, kind: str, variant: str | None, exchange: Exchange, **extra: object) -> set[str]:
    return {f.requirement for f in judged(scheme, kind, variant, exchange, **extra).failures}


def citable_requirements() -> set[str]:
    """Every requirement ID a check can cite: literal in checks.py, or a syntax fault's in challenges.py."""
    cited: set[str] = set()
    for module in (checks, challenges):
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        cited |= set(re.findall(r'"((?:R[0-9A-Z]+|HYG)-[A-Z0-9-]+)"', source))
    return cited


BEARER_OK = 'Bearer realm="api"'
BEARER_INVALID = 'Bearer realm="api", error="invalid_token"'
BEARER_BAD_REQUEST = 'Bearer realm="api", error="invalid_request"'
BEARER_SCOPE = 'Bearer realm="api", error="insufficient_scope", scope="items:read"'
PROXY_CHALLENGE = (("Proxy-Authenticate", 'Bearer realm="api"'),)
# What express's default error handler and a Python debug page put in a body.
EXPRESS_TRACE = (
    b"<pre>UnauthorizedError: No authorization token was found<br> &nbsp; &nbsp;at middleware "
    b"(/srv/node_modules/express-jwt/dist/index.js:125:31)<br> &nbsp; &nbsp;at process.processTicksAndRejections "
    b"(node:internal/process/task_queues:95:5)</pre>"
)
PYTHON_TRACE = b'Traceback (most recent call last):\n  File "/srv/app.py", line 12, in auth\nIndexError: list index out of range\n'


# Each check with a conformant answer first, then the answers it objects to.
VERDICTS = [
    # (scheme, kind, variant, answer, broken requirement -> grade)
    # _check_control: valid, privileged credentials get a 2xx.
    ("bearer", "valid", "admin", answer(200), {}),
    ("bearer", "valid", "admin", answer(401, BEARER_INVALID), {"R6750-HDR-SUPPORT": "fail"}),
    # _check_control: the scheme word in another letter case still authenticates (RFC 9110 §11.1).
    ("bearer", "valid", "admin:lowercase-scheme", answer(200), {}),
    ("bearer", "valid", "admin:lowercase-scheme", answer(401, BEARER_OK), {"R9110-SCHEME-CASE": "fail"}),
    ("basic", "valid", "admin", answer(200), {}),
    ("basic", "valid", "admin", answer(401, 'Basic realm="api"'), {"R7617-CREDS-FORMAT": "fail"}),
    ("api_key", "valid", "admin", answer(200), {}),
    ("api_key", "valid", "admin", answer(403), {"R9110-401-MEANS-REFUSED": "fail"}),
    # _check_not_proxy_status: the API never answers 407; Proxy-Authenticate elsewhere is no concern.
    ("api_key", "missing", None, answer(401, 'APIKey realm="api"', headers=PROXY_CHALLENGE), {}),
    ("api_key", "missing", None, answer(407, headers=PROXY_CHALLENGE), {"R9110-407-PROXY-ONLY": "fail", "R9110-401-ON-FAILURE": "fail"}),
    ("bearer", "missing", None, answer(407, headers=PROXY_CHALLENGE), {"R9110-407-PROXY-ONLY": "fail", "R9110-401-ON-FAILURE": "fail", "R6750-WWWA-REQUIRED": "fail"}),
    ("bearer", "valid", "admin", answer(407), {"R9110-407-PROXY-ONLY": "fail", "R6750-HDR-SUPPORT": "fail"}),
    # _check_status: a 2xx to a negative case grants access, whatever the level of the rule.
    ("bearer", "missing", None, answer(200), {"R9110-401-ON-FAILURE": "fail"}),
    ("bearer", "malformed", "empty", answer(200), {"R6750-HDR-SYNTAX": "fail"}),
    ("bearer", "wrong", "random-token", answer(200), {"R6749-RS-VALIDATE": "fail"}),
    ("bearer", "expired", None, answer(200), {"R6750-TOKEN-LIFETIME": "fail"}),
    ("bearer", "unprivileged", "reader", answer(200), {"R6749-RS-VALIDATE": "fail"}),
    ("basic", "malformed", "no-colon", answer(200), {"R7617-CREDS-FORMAT": "fail"}),
    ("basic", "wrong", "wrong-password", answer(200), {"R9110-401-ON-FAILURE": "fail"}),
    ("api_key", "malformed", "garbage", answer(200), {"R9110-401-ON-FAILURE": "fail"}),
    # _check_status: redirects and 5xx.
    ("bearer", "missing", None, answer(302, location="/login"), {"R9110-401-ON-FAILURE": "fail"}),
    ("bearer", "malformed", "garbage", answer(500, body=b"Traceback"), {"R9110-NO-5XX": "fail"}),
    # _check_refusal_status: 401, or 400 for a malformed credential.
    ("bearer", "missing", None, answer(401, BEARER_OK), {}),
    ("bearer", "malformed", "garbage", answer(400, BEARER_BAD_REQUEST), {}),
    ("basic", "malformed", "no-colon", answer(400, body=b"bad header"), {}),
    ("bearer", "missing", None, answer(403), {"R9110-401-ON-FAILURE": "fail", "R6750-WWWA-REQUIRED": "fail"}),
    ("bearer", "missing", None, answer(403, BEARER_OK), {"R9110-401-ON-FAILURE": "warn"}),
    ("bearer", "malformed", "garbage", answer(422, BEARER_INVALID), {"R9110-401-ON-FAILURE": "fail"}),
    ("basic", "wrong", "wrong-password", answer(403, body=b"Invalid username/password."), {"R9110-401-ON-FAILURE": "fail"}),
    ("bearer", "expired", None, answer(400, body=b"JWT expired"), {"R9110-401-ON-FAILURE": "fail", "R6750-WWWA-REQUIRED": "fail"}),
    ("bearer", "expired", None, answer(400, BEARER_INVALID), {"R9110-401-ON-FAILURE": "warn", "R6750-ERR-INVALID-REQUEST": "warn"}),
    # _check_refusal_status: an over-long credential gets a 4xx that says so.
    ("bearer", "malformed", "over-long", answer(431, body=b"too large"), {}),
    # uvicorn and nginx refuse an over-long head with a bare 400 before any authentication.
    ("bearer", "malformed", "over-long", answer(400, body=b"Invalid HTTP request received."), {}),
    ("api_key", "malformed", "over-long", answer(403), {"R9110-FIELD-TOO-LARGE": "fail"}),
    # _check_unprivileged_status: valid credentials without the privilege get 403 (or a hiding 404).
    ("bearer", "unprivileged", "reader", answer(403, BEARER_SCOPE), {}),
    ("bearer", "unprivileged", "reader", answer(404, body=b'{"error": "Not found"}'), {}),
    ("basic", "unprivileged", "reader", answer(403, body=b"no permission"), {}),
    ("bearer", "unprivileged", "reader", answer(401, BEARER_SCOPE), {"R6750-ERR-INSUFFICIENT-SCOPE": "warn"}),
    ("basic", "unprivileged", "reader", answer(401, 'Basic realm="api"'), {"R9110-403-INADEQUATE": "info"}),
    ("bearer", "unprivileged", "reader", answer(400, BEARER_SCOPE), {"R9110-403-SEMANTICS": "fail"}),
    # _check_challenge_present: a 401 (a Bearer refusal) holds a challenge for the scheme in use.
    ("bearer", "missing", None, answer(401), {"R9110-401-CHALLENGE": "fail"}),
    ("bearer", "missing", None, answer(401, ""), {"R9110-401-CHALLENGE": "fail"}),
    ("bearer", "wrong", "random-token", answer(401, 'Bearer realm="api" error="invalid_token"'), {"R9110-401-CHALLENGE": "fail"}),
    ("bearer", "missing", None, answer(401, 'Basic realm="api"'), {"R6750-SCHEME": "fail"}),
    ("basic", "missing", None, answer(401, BEARER_OK), {"R9110-401-CHALLENGE": "fail"}),
    ("bearer", "unprivileged", "reader", answer(403), {"R6750-WWWA-REQUIRED": "fail"}),
    ("bearer", "unprivileged", "reader", answer(403, 'Bearer realm="api" error="insufficient_scope"'), {"R9110-WWWA-NON-401": "info", "R6750-WWWA-REQUIRED": "fail"}),
    # API keys have no registered challenge scheme: any will do, none fails a 401.
    ("api_key", "missing", None, answer(401, 'APIKey realm="api"'), {}),
    ("api_key", "wrong", "random-key", answer(401, BEARER_OK), {}),
    ("api_key", "missing", None, answer(401), {"R9110-401-CHALLENGE": "fail"}),
    # _check_challenge_syntax: the lines parse; outside a 401 an unreadable one is only noted.
    ("bearer", "valid", "admin", answer(200, 'Bearer realm="api", scope="items:read"'), {}),
    ("bearer", "valid", "admin", answer(200, 'Bearer realm="api" scope="items:read"'), {"R9110-WWWA-NON-401": "info"}),
    ("basic", "unprivileged", "reader", answer(403, 'Basic realm="api" charset="UTF-8"'), {"R9110-WWWA-NON-401": "info"}),
    ("basic", "missing", None, answer(401, 'Basic realm="a", realm="b"'), {"R9110-PARAM-UNIQUE": "fail"}),
    ("bearer", "wrong", "random-token", answer(401, 'Bearer realm="api", , error="invalid_token"'), {"R9110-LIST-NO-EMPTY": "fail"}),
    ("bearer", "missing", None, answer(401, 'Bearer realm="api",'), {"R9110-LIST-NO-EMPTY": "fail"}),
    ("bearer", "missing", None, answer(401, 'Bearer realm = "api"'), {"R9110-BWS-SEND": "fail"}),
    ("bearer", "missing", None, answer(401, 'Bearer realm="a\\pi"'), {"R9110-QPAIR-SEND": "warn"}),
    # _check_realm_quoted.
    ("bearer", "missing", None, answer(401, "Bearer realm=api"), {"R9110-REALM-QUOTED": "fail"}),
    # _check_basic_challenge: a realm, and no charset but UTF-8.
    ("basic", "missing", None, answer(401, 'Basic realm="api"'), {}),
    ("basic", "missing", None, answer(401, 'Basic realm="api", charset="utf-8"'), {}),
    ("basic", "missing", None, answer(401, "Basic"), {"R7617-REALM": "fail"}),
    ("basic", "missing", None, answer(401, 'Basic realm="api", charset="latin1"'), {"R7617-CHARSET": "fail"}),
    # _check_bearer_challenge: at least one auth-param, each attribute once.
    ("bearer", "missing", None, answer(401, "Bearer"), {"R6750-PARAM-REQUIRED": "warn"}),
    ("bearer", "wrong", "random-token", answer(401, 'Bearer realm="api", error="invalid_token", error="invalid_token"'), {"R9110-PARAM-UNIQUE": "fail", "R6750-ATTR-ONCE": "fail"}),
    # _check_bearer_challenge: registered error codes, in their exact case.
    ("bearer", "wrong", "random-token", answer(401, BEARER_INVALID), {}),
    ("bearer", "wrong", "random-token", answer(401, 'Bearer realm="api", error="Invalid_Token"'), {"R6750-ERROR-VALUES": "fail", "R6750-ERR-INVALID-TOKEN": "warn"}),
    ("bearer", "expired", None, answer(401, 'Bearer realm="api", error="expired_token"'), {"R6750-ERROR-VALUES": "fail", "R6750-ERR-INVALID-TOKEN": "warn"}),
    # _check_bearer_challenge: no error details without a token, an error code with one.
    ("bearer", "missing", None, answer(401, BEARER_INVALID), {"R6750-NO-ERROR-IF-NO-AUTH": "warn"}),
    ("bearer", "malformed", "wrong-scheme", answer(401, BEARER_OK), {}),
    ("bearer", "malformed", "wrong-scheme", answer(401, 'Bearer realm="api", error_description="Basic is not accepted"'), {"R6750-NO-ERROR-IF-NO-AUTH": "warn"}),
    ("bearer", "expired", None, answer(401, BEARER_INVALID), {}),
    ("bearer", "expired", None, answer(401, BEARER_OK), {"R6750-ERROR-ON-FAILURE": "warn"}),
    # _check_bearer_challenge: invalid_request goes with 400, invalid_token with 401, insufficient_scope with 403.
    ("bearer", "malformed", "garbage", answer(401, BEARER_INVALID), {}),
    ("bearer", "malformed", "garbage", answer(400, BEARER_INVALID), {"R6750-ERR-INVALID-REQUEST": "warn"}),
    ("bearer", "wrong", "random-token", answer(401, BEARER_BAD_REQUEST), {"R6750-ERR-INVALID-REQUEST": "warn"}),
    ("bearer", "expired", None, answer(401, 'Bearer realm="api", error="insufficient_scope"'), {"R6750-ERR-INVALID-TOKEN": "warn"}),
    ("bearer", "unprivileged", "reader", answer(403, BEARER_OK), {"R6750-ERR-INSUFFICIENT-SCOPE": "warn"}),
    ("bearer", "unprivileged", "reader", answer(403, BEARER_INVALID), {"R6750-ERR-INSUFFICIENT-SCOPE": "warn"}),
    # _check_bearer_charset: printable ASCII without DQUOTE or backslash; scope single-spaced.
    ("bearer", "wrong", "random-token", answer(401, 'Bearer realm="api", error="invalid_token", error_description="Le jeton a expir\u00e9"'), {"R6750-ATTR-CHARSET": "fail"}),
    ("bearer", "wrong", "random-token", answer(401, 'Bearer realm="api", error="invalid_token", error_description="a \\"bad\\" token"'), {"R6750-ATTR-CHARSET": "fail"}),
    ("bearer", "unprivileged", "reader", answer(403, 'Bearer realm="api", error="insufficient_scope", scope="items:read  admin"'), {"R6750-ATTR-CHARSET": "fail"}),
    # _check_explanation: a 4xx says something.
    ("bearer", "missing", None, answer(401, BEARER_OK, body=b""), {"R9110-4XX-BODY": "warn"}),
    ("bearer", "malformed", "garbage", answer(400, BEARER_BAD_REQUEST, body=b" \r\n"), {"R9110-4XX-BODY": "warn"}),
    # Issue 4: a 2xx to a JWT variant breaks the rule the variant tests.
    ("bearer", "wrong", "alg-none", answer(200), {"R8725-ALG-NONE": "fail"}),
    ("bearer", "wrong", "bad-signature", answer(200), {"R8725-VERIFY-ALL": "fail"}),
    ("bearer", "wrong", "tampered-claims", answer(200), {"R8725-VERIFY-ALL": "fail"}),
    ("bearer", "wrong", "foreign-issuer", answer(200), {"R8725-ISS": "fail"}),
    ("bearer", "wrong", "wrong-audience", answer(200), {"R7519-AUD": "fail"}),
    ("bearer", "wrong", "hs-rs-confusion", answer(200), {"R8725-ALG-CONFUSION": "fail"}),
    ("bearer", "expired", "exp-passed", answer(200), {"R7519-EXP": "fail"}),
    ("bearer", "expired", "not-yet-valid", answer(200), {"R7519-NBF": "fail"}),
    ("bearer", "wrong", "alg-none", answer(401, BEARER_INVALID), {}),
    # Issue 4: Digest challenges carry realm, nonce and qop; broken Digest credentials are refused.
    ("digest", "missing", None, answer(401, 'Digest realm="api", nonce="abc", qop="auth"'), {}),
    ("digest", "missing", None, answer(401, 'Digest realm="api"'), {"R7616-CHALLENGE-PARAMS": "fail"}),
    ("digest", "valid", "admin", answer(401, 'Digest realm="api", nonce="abc", qop="auth"'), {"R7616-CHALLENGE-PARAMS": "fail"}),
    ("digest", "malformed", "missing-params", answer(200), {"R7616-BAD-PARAMS": "fail"}),
    # Issue 4: session cookies have no registered scheme, so any challenge will do.
    ("cookie", "missing", None, answer(401, "Token"), {}),
    # Issue 4: a generated value may be refused as too large, and its Bearer error is not judged.
    ("bearer", "malformed", "generated", answer(431, body=b"too large"), {}),
    ("bearer", "malformed", "generated", answer(401, BEARER_OK), {}),
    ("bearer", "malformed", "generated", answer(500, body=b"Traceback"), {"R9110-NO-5XX": "fail"}),
    # Issue 4: a control character makes the field invalid (RFC 9110 §5.5): a bare 400 rejects it.
    ("bearer", "malformed", "invalid-field", answer(400, body=b"Invalid HTTP request received."), {}),
    ("bearer", "malformed", "invalid-field", answer(200), {"R9110-FIELD-CTL": "fail"}),
    # Two Authorization lines: refusing them is right, granting access is not;
    # a lone comma carries no credentials, so no Bearer error is due.
    ("bearer", "malformed", "duplicate-header", answer(400, body=b"Bad Request"), {}),
    ("bearer", "malformed", "duplicate-header", answer(200), {"R9110-AUTHZ-SINGLETON": "fail"}),
    ("basic", "malformed", "duplicate-header", answer(401, 'Basic realm="api"'), {}),
    ("bearer", "malformed", "comma-only", answer(401, BEARER_OK), {}),
    ("bearer", "malformed", "comma-list", answer(500, body=b"IndexError"), {"R9110-NO-5XX": "fail"}),
    # One challenge split over two field lines is the joined list, so it is sound (RFC 9110 §5.3).
    ("bearer", "wrong", "random-token", answer(401, 'Bearer realm="api"', 'error="invalid_token"'), {}),
    # A stack trace in an error body is a hygiene warning (CWE-209), on a refusal or a crash alike.
    ("bearer", "missing", None, answer(401, BEARER_OK, body=EXPRESS_TRACE), {"HYG-NO-STACK-TRACE": "warn"}),
    ("bearer", "malformed", "garbage", answer(500, body=PYTHON_TRACE), {"R9110-NO-5XX": "fail", "HYG-NO-STACK-TRACE": "warn"}),
    ("bearer", "missing", None, answer(401, BEARER_OK, body=b'{"error": "token missing at line 1 of the header"}'), {}),
]


@pytest.mark.parametrize(
    ("scheme", "kind", "variant", "exchange", "expected"),
    VERDICTS,
    ids=[f"{s}-{k}-{v}-{e.status}-{i}" for i, (s, k, v, e, _) in enumerate(VERDICTS)],
)
def test_answer_gets_the_expected_findings(scheme: Scheme, kind: str, variant: str | None, exchange: Exchange, expected: dict[str, Grade]) -> None:
    verdict = judged(scheme, kind, variant, exchange)

    assert flagged(verdict) == expected
    assert verdict.outcome == ("fail" if "fail" in expected.values() else "pass")


@pytest.mark.parametrize("scheme", ["api_key", "cookie"])
def test_missing_challenge_on_an_api_key_401_says_why_it_still_counts(scheme: Scheme) -> None:
    target = replace(make_target("api_key"), scheme=scheme)

    verdict = judge(target, Case("t", ITEMS, "missing"), answer(401))

    (failure,) = verdict.failures
    assert failure.requirement == "R9110-401-CHALLENGE"
    assert "no challenge scheme is registered" in failure.message
    assert "WWW-Authenticate: APIKey realm=" in failure.message


def test_every_citable_requirement_has_a_nonconformant_row() -> None:
    # The two that only ever pass are judged in their own rows above.
    broken = {requirement for *_, expected in VERDICTS for requirement in expected}

    # R7617-UTF8 needs a non-ASCII password, which the table's targets lack: its own test below.
    assert citable_requirements() - {"R9110-400-SYNTAX", "R9110-404-HIDE", "R7617-UTF8"} - broken == set()


def test_hiding_404_for_unprivileged_passes_as_allowed() -> None:
    verdict = judged("bearer", "unprivileged", "reader", answer(404, body=b'{"error": "Not found"}'))

    assert [(f.requirement, f.passed, f.grade) for f in verdict.findings] == [("R9110-404-HIDE", True, "info")]


def test_proxy_status_message_says_why_and_what_to_send() -> None:
    verdict = judged("api_key", "missing", None, answer(407))

    [proxy] = [f for f in verdict.findings if f.requirement == "R9110-407-PROXY-ONLY"]
    assert proxy.message.startswith("407 without Proxy-Authenticate from the API itself: 407 asks the client")
    assert proxy.message.endswith("the API's own refusal is 401 with WWW-Authenticate")


def test_unreadable_challenge_beside_200_is_noted_with_its_status() -> None:
    verdict = judged("bearer", "valid", "admin", answer(200, 'Bearer realm="api" scope="x"'))

    [note] = verdict.findings[1:]
    assert note.message.startswith("WWW-Authenticate line 1, offset 19: Unexpected character 's'")
    assert note.message.endswith("(the field is optional on a 200, but a client cannot read this one)")


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
    assert failing_ids("bearer", "missing", None, answer(401, BEARER_OK), leak_marker="top-secret-row") == set()


def test_refusal_holding_the_control_body_fails_as_a_leak() -> None:
    # Given a target that names no marker, the valid response's body is the evidence.
    control = b'{"items": [{"id": 1, "name": "first"}, {"id": 2, "name": "second"}]}'
    leaked = answer(401, BEARER_OK, body=b'{"error": "Authentication required", "data": ' + control + b"}")

    verdict = judged("bearer", "missing", None, leaked, control_body=control)

    assert flagged(verdict) == {"R6749-RS-VALIDATE": "fail"}
    assert "contains the whole body of the valid response" in verdict.failures[0].message
    assert flagged(judged("bearer", "missing", None, answer(401, BEARER_OK), control_body=control)) == {}


def test_short_control_body_inside_a_refusal_is_no_leak() -> None:
    # A short control body ("x", {}) turns up in unrelated refusals by chance.
    exchange = answer(401, BEARER_OK, body=b'{"error": "x"}')

    assert flagged(judged("bearer", "missing", None, exchange, control_body=b'"x"')) == {}


@pytest.mark.parametrize(
    ("kind", "requirement_id", "due"),
    [("missing", "R9110-401-ON-FAILURE", "401"), ("unprivileged", "R9110-403-SEMANTICS", "403")],
)
def test_invalid_status_code_is_its_own_finding(kind: str, requirement_id: str, due: str) -> None:
    # Given a status no HTTP client can read (RFC 9110 §15: 100 to 599 only)
    verdict = judged("bearer", kind, None, answer(999, BEARER_OK))

    # Then it is no 5xx, and the message says which requirement it is cited under and why
    [broken] = [f for f in verdict.findings if f.requirement == requirement_id]
    assert "R9110-NO-5XX" not in flagged(verdict)
    assert (broken.passed, broken.grade) == (False, "fail")
    assert broken.message == (
        f"999: not an HTTP status code (RFC 9110 §15 allows 100 to 599), so no client can read it as the {due} "
        f"that is due; cited under {requirement_id}, the requirement for that {due}"
    )


def test_expired_token_message_reads_an_expired() -> None:
    verdict = judged("bearer", "expired", None, answer(401, 'Bearer realm="api", error="insufficient_scope"'))

    messages = [f.message for f in verdict.findings if f.requirement == "R6750-ERR-INVALID-TOKEN"]
    assert messages == ["an expired token calls for error=\"invalid_token\", got 'insufficient_scope'"]


def test_dropped_connection_on_over_long_header_is_a_warning() -> None:
    verdict = judge_no_answer(make_target(), Case("t", ITEMS, "malformed", "over-long"), "connection reset", dropped=True)

    assert verdict is not None and verdict.outcome == "pass"
    assert [f.requirement for f in verdict.warnings] == ["R9110-FIELD-TOO-LARGE"]


@pytest.mark.parametrize(
    ("kind", "variant", "dropped", "large"),
    [
        ("missing", None, False, False),
        ("malformed", "over-long", False, True),
        ("malformed", "generated", True, False),
        ("malformed", "invalid-field", True, False),
        ("malformed", "generated", False, True),
        ("malformed", "garbage", True, True),
    ],
    ids=["refused", "over-long-timeout", "generated-small-dropped", "control-char-dropped", "generated-large-timeout", "other-variant-dropped"],
)
def test_other_unanswered_probes_cannot_be_judged(kind: str, variant: str | None, dropped: bool, large: bool) -> None:
    case = Case("t", ITEMS, kind, variant)  # type: ignore[arg-type]

    assert judge_no_answer(make_target(), case, "no answer", dropped=dropped, large=large) is None


def test_dropped_connection_on_large_generated_value_is_a_warning() -> None:
    verdict = judge_no_answer(make_target(), Case("t", ITEMS, "malformed", "generated"), "reset", dropped=True, large=True)

    assert verdict is not None and [f.requirement for f in verdict.warnings] == ["R9110-FIELD-TOO-LARGE"]


def test_every_cited_requirement_is_in_the_catalogue() -> None:
    # An unknown ID would raise only when a server first provokes it.
    cited = citable_requirements()

    assert len(cited) > 30, "the pattern lost most requirement IDs"
    assert cited - set(load_catalogue()) == set()


def test_several_schemes_accept_a_challenge_for_either() -> None:
    # Issue 4: an endpoint that takes Bearer or Basic may challenge with either.
    target = make_target("bearer", accepts=("bearer", "basic"))
    case = Case("t", ITEMS, "missing", None)

    verdict = judge(target, case, answer(401, 'Basic realm="api"'))
    refused = judge(target, case, answer(401, 'Digest realm="api", nonce="n", qop="auth"'))

    assert flagged(verdict) == {}
    assert "the challenges offer Digest but not Bearer or Basic" in " ".join(f.message for f in refused.findings)
    assert expected_answer(target, case) == "401 with a Bearer or Basic challenge"


def test_refused_utf8_basic_password_cites_rfc_7617_utf8() -> None:
    # Given a valid user whose password is not ASCII (sent as UTF-8).
    target = Target("t", "basic", "http://127.0.0.1:1", (ITEMS,), {"bob": BasicCredential("bob", Secret("pässwörd"))})

    refused = judge(target, Case("t", ITEMS, "valid", "bob"), answer(401, 'Basic realm="api"'))
    accepted = judge(target, Case("t", ITEMS, "valid", "bob"), answer(200))

    assert [f.requirement for f in refused.failures] == ["R7617-UTF8"]
    assert accepted.outcome == "pass"
