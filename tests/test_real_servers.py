"""The audit run against real servers nobody here wrote: httpbin and a stock-FastAPI app.

Each test writes a targets file for a server that a session fixture started
on a free 127.0.0.1 port, runs the conformance suite with pytester, and
compares every case of the JSON report (outcome, status, failing
requirement IDs) with what the server really answers. The real behaviour
was found by probing each endpoint with requests; it is noted next to each
expectation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jsonschema
import pytest
from realservers import (
    FASTAPI_API_KEYS,
    FASTAPI_PASSWORDS,
    FASTAPI_REALM,
    FASTAPI_TOKENS,
)

from conformance.challenges import Challenge, parse_challenges

Record = dict[str, Any]

# Seconds one audit run may take; each takes one or two.
AUDIT_TIMEOUT = 60

# The named cases only: the hypothesis stream of malformed:generated is
# tested on its own, with a fixed seed.
FIXED = ("--conformance-examples=0",)
STREAM_SEED = "20261203"
GENERATED = "malformed:generated"

# The variants the suite sends, by scheme, spelt out so that a new one fails
# these tests until someone has looked at what the real servers answer it.
# Commas where a token68 has none, and two Authorization lines.
COMMA_MALFORMED = ("trailing-comma", "comma-list", "comma-only", "duplicate-header")
BASIC_MALFORMED = (
    "empty",
    "scheme-only",
    "wrong-scheme",
    "bad-base64",
    "no-colon",
    "latin-1",
    "garbage",
    *COMMA_MALFORMED,
)
BASIC_WRONG = ("wrong-password", "unknown-user", "empty-password", "colon-in-user")
BEARER_MALFORMED = ("empty", "scheme-only", "wrong-scheme", "no-scheme", "garbage", *COMMA_MALFORMED)
BEARER_WRONG = ("random-token", "truncated", "flipped-char", "misplaced")
API_KEY_MALFORMED = ("empty", "garbage")
API_KEY_WRONG = ("random-key", "truncated", "flipped-char", "misplaced")


@dataclass(frozen=True)
class Verdict:
    """What the report says of one case: outcome, HTTP status, fail-grade requirement IDs."""

    outcome: str
    status: int | None
    failing: frozenset[str] = frozenset()


def passed(status: int) -> Verdict:
    """A case that passed with ``status``."""
    return Verdict("pass", status)


def failed(status: int, *requirements: str) -> Verdict:
    """A case that failed with ``status``, breaking exactly ``requirements``."""
    return Verdict("fail", status, frozenset(requirements))


# The target declares no `expired` credential, so the case is skipped unsent.
NO_EXPIRED = Verdict("skip", None)


@dataclass(frozen=True)
class AuditRun:
    """One inner pytest run: its result and the JSON report of each target it audited."""

    result: pytest.RunResult
    reports: dict[str, dict[str, Any]]
    texts: dict[str, str]

    @property
    def results(self) -> list[Record]:
        """Every case record of every report (endpoint labels differ between targets)."""
        return [r for report in self.reports.values() for r in report["results"]]

    def record(self, endpoint: str, case_id: str) -> Record:
        """The record of ``case_id`` on ``endpoint``."""
        matches = [
            r for r in self.results if r["endpoint"] == endpoint and r["id"] == case_id
        ]
        assert len(matches) == 1, f"{endpoint} [{case_id}] appears {len(matches)} times"
        return matches[0]

    def verdicts(self) -> dict[tuple[str, str], Verdict]:
        """Every case as (endpoint, case id) -> Verdict."""
        return {(r["endpoint"], r["id"]): _verdict(r) for r in self.results}

    def observed(self, endpoint: str, case_id: str) -> Record:
        """What the server answered to the case, as the report has it."""
        observed: Record = self.record(endpoint, case_id)["observed"]
        return observed

    def challenges(self, endpoint: str, case_id: str) -> tuple[Challenge, ...]:
        """The parsed WWW-Authenticate challenges the case got."""
        parsed = parse_challenges(self.observed(endpoint, case_id)["www_authenticate"])
        assert not parsed.faults, parsed.faults
        return parsed.challenges

    def warnings(self, endpoint: str, case_id: str) -> set[str]:
        """Requirement IDs of the case's warn-grade findings that did not pass."""
        findings = self.record(endpoint, case_id)["findings"]
        return {
            f["requirement"]
            for f in findings
            if not f["passed"] and f["grade"] == "warn"
        }


def _verdict(record: Record) -> Verdict:
    failing = frozenset(
        f["requirement"]
        for f in record["findings"]
        if not f["passed"] and f["grade"] == "fail" and not f["waived"]
    )
    return Verdict(record["outcome"], record["observed"]["status"], failing)


def run_audit(
    pytester: pytest.Pytester, targets: str, *names: str, options: tuple[str, ...]
) -> AuditRun:
    """Audit the targets ``names`` of the ``targets`` YAML and read the reports."""
    targets_file = pytester.path / "targets.yaml"
    targets_file.write_text(targets, encoding="utf-8")
    report_dir = pytester.path / "reports"

    # In a subprocess, so that a hung audit ends in a timeout, not a hung run.
    result = pytester.runpytest_subprocess(
        *(f"--target={name}" for name in names),
        f"--targets-file={targets_file}",
        f"--conformance-report-dir={report_dir}",
        "-p",
        "no:cacheprovider",
        *options,
        timeout=AUDIT_TIMEOUT,
    )

    texts = {
        name: (report_dir / f"{name}.json").read_text(encoding="utf-8")
        for name in names
    }
    reports = {name: json.loads(text) for name, text in texts.items()}
    for report in reports.values():
        jsonschema.validate(report, _report_schema())
    return AuditRun(result, reports, texts)


def _report_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        resources.files("conformance")
        .joinpath("data/report.schema.json")
        .read_text("utf-8")
    )
    return schema


def assert_verdicts(audit: AuditRun, expected: dict[tuple[str, str], Verdict]) -> None:
    """Every case has exactly its expected verdict, and pytest counted the same.

    pytest also runs test_target_can_be_audited once per target, and skips
    each suite test whose parameter set is empty.
    """
    assert audit.verdicts() == expected

    outcomes = [v.outcome for v in expected.values()]
    counted = audit.result.parseoutcomes()
    assert counted.get("passed", 0) == outcomes.count("pass") + len(audit.reports)
    assert counted.get("failed", 0) == outcomes.count("fail")
    assert counted.get("skipped", 0) >= outcomes.count("skip")
    assert "errors" not in counted


def _stream_verdicts(audit: AuditRun) -> dict[tuple[str, str], Verdict]:
    """Every case's verdict, leaving out the status of a passing stream.

    The record of a stream that passed shows its last example, whose
    answer depends on the draw; a failing one shows the shrunk example.
    """
    return {
        key: Verdict("pass", None) if v.outcome == "pass" else v
        for key, v in audit.verdicts().items()
    }


def respelled(role: str, verdict: Verdict) -> dict[str, Verdict]:
    """The control's credential with the scheme word in lower and upper case."""
    return {f"valid:{role}:{spelling}-scheme": verdict for spelling in ("lowercase", "uppercase")}


def _cases(
    endpoint: str, verdicts: dict[str, Verdict]
) -> dict[tuple[str, str], Verdict]:
    return {(endpoint, case_id): verdict for case_id, verdict in verdicts.items()}


# --- httpbin -----------------------------------------------------------------

HTTPBIN_TOKEN = "tok-httpbin-5d1e8a2c9f4b7061"
HTTPBIN_EXPIRED = "tok-expired-0b7f3e91a6c4d258"


def _httpbin_targets(url: str) -> str:
    # httpbin takes the Basic user and password from the URL; it knows no
    # token expiry, so any token it never issued stands in for an expired one.
    return f"""\
targets:
  httpbin-basic:
    base_url: {url}
    scheme: basic
    credentials:
      alice: {{username: alice, password: s3cret-4lice}}
      bob: {{username: bob, password: hunter2-b0b}}
    endpoints:
      - {{method: GET, path: /basic-auth/alice/s3cret-4lice, roles: [alice]}}
      - {{method: GET, path: /hidden-basic-auth/alice/s3cret-4lice, roles: [alice]}}
  httpbin-bearer:
    base_url: {url}
    scheme: bearer
    credentials: {{client: {HTTPBIN_TOKEN}}}
    expired: {HTTPBIN_EXPIRED}
    endpoints: [GET /bearer]
"""


def test_httpbin_basic_auth_is_judged(
    pytester: pytest.Pytester, httpbin_url: str
) -> None:
    # Given httpbin's Basic endpoints, the second of which answers 404 for 401
    audit = run_audit(
        pytester, _httpbin_targets(httpbin_url), "httpbin-basic", options=FIXED
    )

    # Then /basic-auth passes: every refusal is a 401 with 'Basic realm="Fake Realm"'
    # (none of the malformed headers parses into alice's credentials), and
    # werkzeug's dev server answers the 64 KiB header with 431 before Flask
    # sees it.
    # bob's password is right, but not for alice's URL: httpbin answers 401,
    # where RFC 9110 would prefer 403; the catalogue rates that info only.
    basic = "GET /basic-auth/alice/s3cret-4lice"
    expected = _cases(
        basic,
        {
            "valid:alice": passed(200),
            # werkzeug matches the scheme word in any letter case.
            **respelled("alice", passed(200)),
            "unprivileged:bob": passed(401),
            "missing": passed(401),
            **{f"malformed:{v}": passed(401) for v in BASIC_MALFORMED},
            "malformed:over-long": passed(431),
            **{f"wrong:{v}": passed(401) for v in BASIC_WRONG},
            "expired": NO_EXPIRED,
        },
    )
    # /hidden-basic-auth answers an empty 404 with no challenge to every
    # request it refuses, so no client can tell it should authenticate: each
    # missing, malformed and wrong case fails R9110-401-ON-FAILURE. Hiding
    # the resource from an authenticated but unprivileged user with 404 is
    # allowed (R9110-404-HIDE), and the over-long header still gets 431.
    hidden = "GET /hidden-basic-auth/alice/s3cret-4lice"
    expected |= _cases(
        hidden,
        {
            "valid:alice": passed(200),
            **respelled("alice", passed(200)),
            "unprivileged:bob": passed(404),
            "missing": failed(404, "R9110-401-ON-FAILURE"),
            **{
                f"malformed:{v}": failed(404, "R9110-401-ON-FAILURE")
                for v in BASIC_MALFORMED
            },
            "malformed:over-long": passed(431),
            **{f"wrong:{v}": failed(404, "R9110-401-ON-FAILURE") for v in BASIC_WRONG},
            "expired": NO_EXPIRED,
        },
    )
    assert_verdicts(audit, expected)

    # And the challenge is read with its realm; the empty 401 body is a warning
    [challenge] = audit.challenges(basic, "missing")
    assert (challenge.scheme, challenge.param("realm")) == ("Basic", "Fake Realm")
    assert audit.warnings(basic, "missing") == {"R9110-4XX-BODY"}
    assert audit.observed(hidden, "missing")["www_authenticate"] == []


def test_httpbin_bearer_accepts_any_token(
    pytester: pytest.Pytester, httpbin_url: str
) -> None:
    # Given httpbin's /bearer, which grants 200 to any Authorization value
    # starting with "Bearer " (the token is echoed, never checked)
    audit = run_audit(
        pytester, _httpbin_targets(httpbin_url), "httpbin-bearer", options=FIXED
    )

    # Then every request it lets through fails, with the rule the 2xx breaks
    expected = _cases(
        "GET /bearer",
        {
            "valid:client": passed(200),
            # httpbin compares the scheme word case-sensitively: "bearer <token>"
            # and "BEARER <token>" get 401, which RFC 9110 §11.1 forbids.
            **respelled("client", failed(401, "R9110-SCHEME-CASE")),
            # No Authorization: 401 with the bare challenge "Bearer".
            "missing": passed(401),
            # "Bearer " with an empty token still starts with "Bearer ": 200.
            "malformed:empty": failed(200, "R6750-HDR-SYNTAX"),
            # "Bearer" (no space), a Basic credential and a token with no
            # scheme do not start with "Bearer ": 401.
            "malformed:scheme-only": passed(401),
            "malformed:wrong-scheme": passed(401),
            "malformed:no-scheme": passed(401),
            # 'Bearer not,a "token"' is no token68, yet httpbin answers 200.
            "malformed:garbage": failed(200, "R6750-HDR-SYNTAX"),
            # werkzeug's dev server refuses the 64 KiB line with 431.
            "malformed:over-long": passed(431),
            # A token followed by a comma, and "Bearer ,,0", still start with
            # "Bearer ": 200. A lone comma does not: 401.
            "malformed:trailing-comma": failed(200, "R6750-HDR-SYNTAX"),
            "malformed:comma-list": failed(200, "R6750-HDR-SYNTAX"),
            "malformed:comma-only": passed(401),
            # Two Authorization lines reach Flask joined, starting "Bearer ": 200.
            "malformed:duplicate-header": failed(200, "R9110-AUTHZ-SINGLETON"),
            # A random token, the valid one cut in half or with one character
            # changed: all unknown to httpbin, all 200.
            "wrong:random-token": failed(200, "R6749-RS-VALIDATE"),
            "wrong:truncated": failed(200, "R6749-RS-VALIDATE"),
            "wrong:flipped-char": failed(200, "R6749-RS-VALIDATE"),
            # The valid token in Proxy-Authorization: httpbin reads only
            # Authorization, finds none and answers 401.
            "wrong:misplaced": passed(401),
            # The "expired" token is just another unknown token: 200.
            "expired": failed(200, "R6750-TOKEN-LIFETIME"),
        },
    )
    assert_verdicts(audit, expected)

    # And the bare "Bearer" challenge (no auth-param) on an empty 401 body is
    # only warned about, as the catalogue grades R6750-PARAM-REQUIRED
    [challenge] = audit.challenges("GET /bearer", "missing")
    assert (challenge.scheme, challenge.params) == ("Bearer", ())
    assert audit.warnings("GET /bearer", "missing") == {
        "R6750-PARAM-REQUIRED",
        "R9110-4XX-BODY",
    }

    # And the tokens httpbin echoes in its 200 bodies never reach the report
    text = audit.texts["httpbin-bearer"]
    assert HTTPBIN_TOKEN not in text
    assert HTTPBIN_EXPIRED not in text
    echoed = audit.observed("GET /bearer", "valid:client")["body_excerpt"]
    assert '"token": "<redacted>"' in echoed
    html = (pytester.path / "reports" / "httpbin-bearer.html").read_text(
        encoding="utf-8"
    )
    assert HTTPBIN_TOKEN not in html
    assert HTTPBIN_EXPIRED not in html


# --- FastAPI -----------------------------------------------------------------


def _fastapi_targets(url: str) -> str:
    alice, bob = FASTAPI_PASSWORDS["alice"], FASTAPI_PASSWORDS["bob"]
    return f"""\
targets:
  fastapi-basic:
    base_url: {url}
    scheme: basic
    credentials:
      alice: {{username: alice, password: {alice}}}
      bob: {{username: bob, password: {bob}}}
    endpoints:
      - GET /basic/me
      - {{method: GET, path: /basic/admin, roles: [alice]}}
      - GET /basic-docs/me
  fastapi-bearer:
    base_url: {url}
    scheme: bearer
    credentials: {{alice: {FASTAPI_TOKENS["alice"]}, bob: {FASTAPI_TOKENS["bob"]}}}
    expired: tok-expired-77c0a1d4e5b6f829
    endpoints:
      - GET /bearer/me
      - {{method: GET, path: /bearer/admin, roles: [alice]}}
      - GET /oauth2/me
      - {{method: GET, path: /oauth2/admin, roles: [alice]}}
  fastapi-apikey:
    base_url: {url}
    scheme: api_key
    api_key: {{in: header, name: X-API-Key}}
    credentials: {{alice: {FASTAPI_API_KEYS["alice"]}, bob: {FASTAPI_API_KEYS["bob"]}}}
    expired: key-expired-1a2b3c4d5e6f7a8b
    endpoints:
      - GET /apikey/me
      - {{method: GET, path: /apikey/admin, roles: [alice]}}
  fastapi-apikey-query:
    base_url: {url}
    scheme: api_key
    api_key: {{in: query, name: api_key}}
    credentials: {{alice: {FASTAPI_API_KEYS["alice"]}, bob: {FASTAPI_API_KEYS["bob"]}}}
    expired: key-expired-1a2b3c4d5e6f7a8b
    endpoints:
      - GET /apikey-query/me
      - {{method: GET, path: /apikey-query/admin, roles: [alice]}}
  fastapi-apikey-cookie:
    base_url: {url}
    scheme: api_key
    api_key: {{in: cookie, name: session_key}}
    credentials: {{alice: {FASTAPI_API_KEYS["alice"]}, bob: {FASTAPI_API_KEYS["bob"]}}}
    expired: key-expired-1a2b3c4d5e6f7a8b
    endpoints:
      - GET /apikey-cookie/me
      - {{method: GET, path: /apikey-cookie/admin, roles: [alice]}}
"""


def test_fastapi_basic_is_judged(pytester: pytest.Pytester, fastapi_url: str) -> None:
    # Given HTTPBasic with a realm, and HTTPBasic as the FastAPI tutorial has it
    audit = run_audit(
        pytester, _fastapi_targets(fastapi_url), "fastapi-basic", options=FIXED
    )

    # Then HTTPBasic(realm=...) passes: it refuses a missing header, another
    # scheme, bad base64, a missing colon and non-ASCII bytes (it decodes
    # ASCII only) with 401 'Basic realm="..."', the route does the same for
    # every wrong user or password, and the admin
    # route answers bob 403. The 64 KiB header reaches the app: 401 too.
    def refusals(verdict: Verdict) -> dict[str, Verdict]:
        return {
            "missing": verdict,
            **{f"malformed:{v}": verdict for v in (*BASIC_MALFORMED, "over-long")},
            **{f"wrong:{v}": verdict for v in BASIC_WRONG},
            "expired": NO_EXPIRED,
        }

    expected = _cases(
        "GET /basic/me",
        {"valid:alice": passed(200), **respelled("alice", passed(200)), "valid:bob": passed(200), **refusals(passed(401))},
    )
    expected |= _cases(
        "GET /basic/admin",
        {
            "valid:alice": passed(200),
            **respelled("alice", passed(200)),
            "unprivileged:bob": passed(403),
            **refusals(passed(401)),
        },
    )
    # HTTPBasic() without realm, and the tutorial's own 401, send the bare
    # challenge "Basic": every refusal breaks RFC 7617's required realm.
    expected |= _cases(
        "GET /basic-docs/me",
        {
            "valid:alice": passed(200),
            **respelled("alice", passed(200)),
            "valid:bob": passed(200),
            **refusals(failed(401, "R7617-REALM")),
        },
    )
    assert_verdicts(audit, expected)

    # And the realm is read from the challenge, or found missing
    [challenge] = audit.challenges("GET /basic/me", "wrong:wrong-password")
    assert (challenge.scheme, challenge.param("realm")) == ("Basic", FASTAPI_REALM)
    [challenge] = audit.challenges("GET /basic-docs/me", "wrong:wrong-password")
    assert (challenge.scheme, challenge.params) == ("Basic", ())
    forbidden = audit.observed("GET /basic/admin", "unprivileged:bob")
    assert (forbidden["status"], forbidden["www_authenticate"]) == (403, [])


def test_fastapi_bearer_forbids_without_challenge(
    pytester: pytest.Pytester, fastapi_url: str
) -> None:
    # Given HTTPBearer and OAuth2PasswordBearer routes, each with an admin route
    audit = run_audit(
        pytester, _fastapi_targets(fastapi_url), "fastapi-bearer", options=FIXED
    )

    # Then every refusal passes: a missing header, another scheme or no token
    # at all get the class's 401 "Bearer" (OAuth2PasswordBearer passes an
    # empty token on to the route), and the routes answer every token they
    # do not know, the 64 KiB one included, with the tutorial's 401
    # "Bearer". But the admin routes refuse bob with a bare 403, and RFC
    # 6750 §3 wants a Bearer challenge on every refusal of a token that does
    # not grant access.
    def endpoint(path: str, admin: bool) -> dict[tuple[str, str], Verdict]:
        # Starlette's HTTPBearer lowercases the scheme word before comparing.
        granted = {"valid:alice": passed(200), **respelled("alice", passed(200))}
        granted |= (
            {"unprivileged:bob": failed(403, "R6750-WWWA-REQUIRED")}
            if admin
            else {"valid:bob": passed(200)}
        )
        refused = {
            "missing": passed(401),
            **{f"malformed:{v}": passed(401) for v in (*BEARER_MALFORMED, "over-long")},
            **{f"wrong:{v}": passed(401) for v in BEARER_WRONG},
            "expired": passed(401),
        }
        return _cases(f"GET {path}", granted | refused)

    expected = {
        **endpoint("/bearer/me", admin=False),
        **endpoint("/bearer/admin", admin=True),
        **endpoint("/oauth2/me", admin=False),
        **endpoint("/oauth2/admin", admin=True),
    }
    assert_verdicts(audit, expected)

    # And the bare "Bearer" challenge is warned about, as is its missing
    # error attribute once a token was presented
    [challenge] = audit.challenges("GET /bearer/me", "missing")
    assert (challenge.scheme, challenge.params) == ("Bearer", ())
    assert audit.warnings("GET /bearer/me", "missing") == {"R6750-PARAM-REQUIRED"}
    assert audit.warnings("GET /oauth2/me", "wrong:random-token") == {
        "R6750-PARAM-REQUIRED",
        "R6750-ERROR-ON-FAILURE",
    }
    # A token in Proxy-Authorization never reached the API: like no token at
    # all, its refusal needs no error attribute (RFC 6750 §3.1)
    assert audit.warnings("GET /bearer/me", "wrong:misplaced") == {
        "R6750-PARAM-REQUIRED"
    }


def test_fastapi_api_key_header_conforms(
    pytester: pytest.Pytester, fastapi_url: str
) -> None:
    # Given APIKeyHeader(name="X-API-Key"), with an admin route
    audit = run_audit(
        pytester, _fastapi_targets(fastapi_url), "fastapi-apikey", options=FIXED
    )

    # Then every case passes: no key or an empty one gets the class's 401
    # "APIKey", an unknown key (the 64 KiB one too) the route's 401
    # "APIKey", and bob gets 403 from the admin route
    refused = {
        "missing": passed(401),
        **{f"malformed:{v}": passed(401) for v in (*API_KEY_MALFORMED, "over-long")},
        **{f"wrong:{v}": passed(401) for v in API_KEY_WRONG},
        "expired": passed(401),
    }
    expected = _cases(
        "GET /apikey/me",
        {"valid:alice": passed(200), "valid:bob": passed(200), **refused},
    )
    expected |= _cases(
        "GET /apikey/admin",
        {"valid:alice": passed(200), "unprivileged:bob": passed(403), **refused},
    )
    assert_verdicts(audit, expected)

    # And its challenge names the scheme FastAPI made up for API keys
    [challenge] = audit.challenges("GET /apikey/me", "missing")
    assert (challenge.scheme, challenge.params) == ("APIKey", ())


@pytest.mark.parametrize(
    ("target", "prefix"),
    [("fastapi-apikey-query", "/apikey-query"), ("fastapi-apikey-cookie", "/apikey-cookie")],
)
def test_fastapi_api_key_in_query_or_cookie_conforms(
    pytester: pytest.Pytester, fastapi_url: str, target: str, prefix: str
) -> None:
    # Given APIKeyQuery(name="api_key") or APIKeyCookie(name="session_key")
    audit = run_audit(pytester, _fastapi_targets(fastapi_url), target, options=FIXED)

    # Then every case passes as for the header: no key, an empty one or a
    # key under another name get the class's 401 "APIKey", an unknown key
    # (the 64 KiB one too, which uvicorn here lets through) the route's
    # 401 "APIKey", and bob gets 403 from the admin route
    refused = {
        "missing": passed(401),
        **{f"malformed:{v}": passed(401) for v in (*API_KEY_MALFORMED, "over-long")},
        **{f"wrong:{v}": passed(401) for v in API_KEY_WRONG},
        "expired": passed(401),
    }
    expected = _cases(
        f"GET {prefix}/me",
        {"valid:alice": passed(200), "valid:bob": passed(200), **refused},
    )
    expected |= _cases(
        f"GET {prefix}/admin",
        {"valid:alice": passed(200), "unprivileged:bob": passed(403), **refused},
    )
    assert_verdicts(audit, expected)

    # And the report says where the key went, but never shows it
    where = "query api_key" if target.endswith("query") else "cookie session_key"
    assert audit.record(f"GET {prefix}/me", "valid:alice")["sent"] == f"{where}: alice's credential <26 chars>"
    html = (pytester.path / "reports" / f"{target}.html").read_text(encoding="utf-8")
    for key in FASTAPI_API_KEYS.values():
        assert key not in audit.texts[target]
        assert key not in html
        assert key not in audit.result.stdout.str()


def test_httpbin_fails_generated_values(
    pytester: pytest.Pytester, httpbin_url: str
) -> None:
    # Given the hypothesis stream of broken Authorization values, seeded
    audit = run_audit(
        pytester,
        _httpbin_targets(httpbin_url),
        "httpbin-basic",
        "httpbin-bearer",
        options=("-k", "generated", f"--hypothesis-seed={STREAM_SEED}"),
    )

    # Then each endpoint fails, on the smallest value hypothesis shrank to:
    # - /basic-auth crashes on a byte that is not ASCII: werkzeug's
    #   Authorization.from_header lets base64's ValueError escape, 500;
    # - /hidden-basic-auth answers 404 to anything, "Basic \x00" included;
    # - /bearer grants 200 to "Bearer \x00", a NUL in a field value.
    assert _stream_verdicts(audit) == {
        ("GET /basic-auth/alice/s3cret-4lice", GENERATED): failed(500, "R9110-NO-5XX"),
        ("GET /hidden-basic-auth/alice/s3cret-4lice", GENERATED): failed(
            404, "R9110-401-ON-FAILURE"
        ),
        ("GET /bearer", GENERATED): failed(200, "R9110-FIELD-CTL"),
    }
    crash = audit.record("GET /basic-auth/alice/s3cret-4lice", GENERATED)
    assert crash["sent"].endswith("Authorization: b'Basic 0\\xff'")


def test_fastapi_refuses_generated_values(
    pytester: pytest.Pytester, fastapi_url: str
) -> None:
    # Given the hypothesis stream of broken Authorization values, seeded
    audit = run_audit(
        pytester,
        _fastapi_targets(fastapi_url),
        "fastapi-basic",
        "fastapi-bearer",
        options=("-k", "generated", f"--hypothesis-seed={STREAM_SEED}"),
    )

    # Then every value is refused: h11 answers a NUL with a bare 400, the
    # security classes and routes everything else with 401. Only
    # /basic-docs/me fails, for the realm its 401 lacks.
    expected = {
        (f"GET {path}", GENERATED): Verdict("pass", None)
        for path in (
            "/basic/me",
            "/basic/admin",
            "/bearer/me",
            "/bearer/admin",
            "/oauth2/me",
            "/oauth2/admin",
        )
    }
    expected[("GET /basic-docs/me", GENERATED)] = failed(401, "R7617-REALM")
    assert _stream_verdicts(audit) == expected


def test_uvicorn_head_limit_is_judged(
    pytester: pytest.Pytester, uvicorn_defaults_url: str
) -> None:
    # Given uvicorn's default 16 KiB limit on an unfinished request head
    targets = _fastapi_targets(uvicorn_defaults_url)
    audit = run_audit(pytester, targets, "fastapi-apikey", options=("-k", "over-long"))

    # Then the 64 KiB key is judged, not an error. What uvicorn really does
    # depends on how the bytes arrive: if the head comes in one read, h11
    # parses it and the app answers 401 "APIKey"; if it comes in pieces,
    # uvicorn writes "400 Bad Request" with no challenge and closes with the
    # rest unread, so the client gets the 400, a reset after the status line
    # (which once escaped the transport as urllib3's ProtocolError, so the
    # case errored) or a reset before it. The 401 and the 400 pass; a
    # dropped connection passes with an R9110-FIELD-TOO-LARGE warning.
    judged = {passed(401), passed(400), Verdict("pass", None)}
    for endpoint in ("GET /apikey/me", "GET /apikey/admin"):
        record = audit.record(endpoint, "malformed:over-long")
        assert _verdict(record) in judged, record["message"]
