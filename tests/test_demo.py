"""Tests for the embedded reference APIs, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import http.client
import logging
import re
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import jwt
import pytest
import requests

from conformance import demo_jwt
from conformance.cases import build_probe
from conformance.demo import EMBEDDED_NAMES, LEAK_MARKER, RunningDemo, start_demo
from conformance.errors import TargetStartError
from conformance.model import ApiKeyPlacement, BasicCredential, Case, Endpoint, Secret
from conformance.variants import basic_value

# The Bearer demos, which the tables below describe; the other schemes' demos follow them.
BEARER_DEMOS = ("demo", "demo-broken")


@dataclass(frozen=True)
class Expect:
    """The status and challenge line (None: absent) a request must get.

    ``field`` is where the challenge goes; ``leaks`` says that a refusal
    carries the protected payload.
    """

    status: int
    challenge: str | None = None
    field: str = "WWW-Authenticate"
    leaks: bool = False

    def line(self, realm: str) -> str | None:
        """The challenge line expected from the demo with ``realm``."""
        return None if self.challenge is None else self.challenge.format(realm=realm)

    def rewritten(self, edit: Callable[[str], str]) -> Expect:
        """The same answer with ``edit`` applied to its challenge line."""
        return replace(self, challenge=None if self.challenge is None else edit(self.challenge))


MALFORMED_DESCRIPTION = 'error_description="The Authorization header is malformed"'

CHALLENGE = Expect(401, 'Bearer realm="{realm}"')
MALFORMED = Expect(
    400, f'Bearer realm="{{realm}}", error="invalid_request", {MALFORMED_DESCRIPTION}'
)
INVALID = Expect(
    401,
    'Bearer realm="{realm}", error="invalid_token", error_description="The access token is invalid"',
)
EXPIRED = Expect(
    401,
    'Bearer realm="{realm}", error="invalid_token", error_description="The access token expired"',
)
GRANTED = Expect(200)
CREATED = Expect(201)
NO_CHALLENGE = Expect(401)
CRASH = Expect(500)
ERROR_WITHOUT_TOKEN = Expect(
    401,
    'Bearer realm="{realm}", error="invalid_token", error_description="No access token was sent"',
)


def insufficient(scope: str) -> Expect:
    """The 403 an endpoint needing ``scope`` sends to a role without it."""
    return Expect(
        403, f'Bearer realm="{{realm}}", error="insufficient_scope", scope="{scope}"'
    )


# Case id -> Authorization value (None: no header); {admin}, {reader} and
# {expired} stand for the tokens the demo minted at start.
AUTHORIZATIONS: dict[str, str | None] = {
    "missing": None,
    "valid:admin": "Bearer {admin}",
    "valid:lowercase-scheme": "bearer {admin}",
    "valid:uppercase-scheme": "BEARER {admin}",
    "valid:two-spaces": "Bearer  {admin}",
    "valid:trailing-space": "Bearer {admin} ",
    "valid:reader": "Bearer {reader}",
    "other-scheme:basic": "Basic YWRtaW46YWRtaW4=",
    "other-scheme:basic-alone": "Basic",
    "other-scheme:token-alone": "{admin}",
    "wrong:unknown-token": "Bearer AAAAunknownTOKEN",
    "wrong:padded-token": "Bearer {admin}==",
    "expired": "Bearer {expired}",
    "malformed:scheme-alone": "Bearer",
    "malformed:empty-token": "Bearer ",
    "malformed:two-tokens": "Bearer {admin} {reader}",
    "malformed:comma-list": "Bearer {admin},{reader}",
    "malformed:auth-param": 'Bearer {admin}, realm="x"',
    "malformed:quoted": 'Bearer "{admin}"',
    "malformed:inner-equals": "Bearer ab=cd",
    "malformed:tab": "Bearer\t{admin}",
    "malformed:non-ascii": "Bearer t\u00f6ken",
    "malformed:nul": "Bearer ab\x00cd",
}
REFUSED = [case for case in AUTHORIZATIONS if not case.startswith("valid:")]
MALFORMED_CASES = [case for case in AUTHORIZATIONS if case.startswith("malformed:")]

DEMO_ENDPOINTS = {
    ("GET", "/items"): "items:read",
    ("POST", "/items"): "items:write",
    ("GET", "/items/1"): "items:read",
    ("DELETE", "/items/1"): "items:write",
    ("GET", "/admin/stats"): "admin",
}
BROKEN_ENDPOINTS = {
    ("GET", "/items"): "items:read",
    ("GET", "/admin/stats"): "admin",
    ("GET", "/no-challenge"): "items:read",
    ("GET", "/forbidden-when-missing"): "items:read",
    ("GET", "/expired-accepted"): "items:read",
    ("GET", "/login-redirect"): "items:read",
    ("GET", "/crash-on-malformed"): "items:read",
    ("GET", "/error-on-missing"): "items:read",
    ("GET", "/unquoted-realm"): "items:read",
    ("GET", "/empty-list-member"): "items:read",
    ("GET", "/spaces-around-equals"): "items:read",
    ("GET", "/needless-escape"): "items:read",
    ("GET", "/repeated-error"): "items:read",
    ("GET", "/missing-commas"): "items:read",
    ("GET", "/basic-challenge"): "items:read",
    ("GET", "/bare-challenge"): "items:read",
    ("GET", "/invalid-request-on-401"): "items:read",
    ("GET", "/expired-without-error"): "items:read",
    ("GET", "/expired-token-code"): "items:read",
    ("GET", "/non-ascii-description"): "items:read",
    ("GET", "/expired-gets-400"): "items:read",
    ("GET", "/admin/scope-not-checked"): "admin",
    ("GET", "/admin/403-without-error"): "admin",
    ("GET", "/admin/401-for-reader"): "admin",
    ("GET", "/admin/hidden"): "admin",
    ("GET", "/leaky-refusal"): "items:read",
    ("GET", "/empty-refusal-body"): "items:read",
    ("GET", "/proxy-auth-required"): "items:read",
    ("GET", "/case-sensitive-scheme"): "items:read",
    ("GET", "/empty-token-accepted"): "items:read",
    ("GET", "/jwt/alg-none-accepted"): "items:read",
    ("GET", "/jwt/signature-not-verified"): "items:read",
    ("GET", "/jwt/exp-not-checked"): "items:read",
    ("GET", "/jwt/iss-aud-not-checked"): "items:read",
    ("GET", "/jwt/alg-from-header"): "items:read",
}


def conformant(case: str, method: str, scope: str) -> Expect:
    """What a conformant endpoint answers to ``case``."""
    if case == "valid:reader" and scope != "items:read":
        return insufficient(scope)
    if case.startswith("valid:"):
        return CREATED if method == "POST" else GRANTED
    if case == "missing" or case.startswith("other-scheme:"):
        return CHALLENGE
    if case.startswith("wrong:"):
        return INVALID
    return EXPIRED if case == "expired" else MALFORMED


def edited(cases: list[str], edit: Callable[[str], str]) -> dict[str, Expect]:
    """The conformant answers of an items:read endpoint to ``cases``, challenge lines edited."""
    return {case: conformant(case, "GET", "items:read").rewritten(edit) for case in cases}


def reworded(descriptions: Mapping[str, str]) -> Callable[[str], str]:
    """An edit that swaps each error_description for another text."""

    def edit(line: str) -> str:
        for old, new in descriptions.items():
            line = line.replace(f'error_description="{old}"', f'error_description="{new}"')
        return line

    return edit


# Which requests the demo refuses with 401 (the rest: 400, or granted).
UNAUTHORIZED = [case for case in REFUSED if conformant(case, "GET", "items:read").status == 401]
WITH_ERROR = [case for case in REFUSED if "error=" in (conformant(case, "GET", "items:read").challenge or "")]
WRONG_OR_EXPIRED = [case for case in REFUSED if case.startswith("wrong:") or case == "expired"]

# The planted mistakes of demo-broken: endpoint -> the cases it answers wrongly.
FAULTS: dict[str, dict[str, Expect]] = {
    "/no-challenge": {case: NO_CHALLENGE for case in REFUSED},
    "/forbidden-when-missing": {"missing": Expect(403)},
    "/expired-accepted": {"expired": GRANTED},
    "/login-redirect": {"missing": Expect(302)},
    "/error-on-missing": {"missing": ERROR_WITHOUT_TOKEN},
    "/crash-on-malformed": {
        **{case: CRASH for case in MALFORMED_CASES},
        "other-scheme:basic-alone": CRASH,
        "other-scheme:token-alone": CRASH,
    },
    "/unquoted-realm": edited(REFUSED, lambda line: line.replace('realm="{realm}"', "realm={realm}")),
    "/empty-list-member": edited(REFUSED, lambda line: line.replace('realm="{realm}"', 'realm="{realm}", ').rstrip()),
    "/spaces-around-equals": edited(REFUSED, lambda line: line.replace('="', ' = "')),
    "/needless-escape": edited(
        WITH_ERROR,
        reworded(
            {
                "The Authorization header is malformed": "The Authorization header isn\\'t well-formed",
                "The access token is invalid": "The access token isn\\'t valid",
                "The access token expired": "The access token isn\\'t valid any more",
            }
        ),
    ),
    "/repeated-error": edited(WITH_ERROR, lambda line: re.sub(r'(error="\w+"), ', r"\1, \1, ", line)),
    "/missing-commas": {
        **edited(REFUSED, lambda line: line.replace(", ", " ") + ' scope="items:read"'),
        **{case: Expect(200, 'Bearer realm="{realm}" scope="items:read"') for case in AUTHORIZATIONS if case.startswith("valid:")},
    },
    "/basic-challenge": edited(REFUSED, lambda line: 'Basic realm="{realm}"'),
    "/bare-challenge": edited(REFUSED, lambda line: "Bearer"),
    "/invalid-request-on-401": edited(WRONG_OR_EXPIRED, lambda line: line.replace("invalid_token", "invalid_request")),
    "/expired-without-error": edited(["expired"], lambda line: line.replace('error="invalid_token", ', "")),
    "/expired-token-code": edited(["expired"], lambda line: line.replace("invalid_token", "expired_token")),
    "/non-ascii-description": edited(
        WITH_ERROR,
        reworded(
            {
                "The Authorization header is malformed": "L'en-t\u00eate Authorization est mal form\u00e9",
                "The access token is invalid": "Le jeton d'acc\u00e8s est invalide",
                "The access token expired": "Le jeton d'acc\u00e8s a expir\u00e9",
            }
        ),
    ),
    "/expired-gets-400": {"expired": replace(EXPIRED, status=400)},
    "/admin/scope-not-checked": {"valid:reader": GRANTED},
    "/admin/403-without-error": {"valid:reader": Expect(403, 'Bearer realm="{realm}"')},
    "/admin/401-for-reader": {"valid:reader": replace(insufficient("admin"), status=401)},
    "/admin/hidden": {"valid:reader": Expect(404)},
    "/leaky-refusal": {case: replace(conformant(case, "GET", "items:read"), leaks=True) for case in UNAUTHORIZED},
    "/proxy-auth-required": {
        case: replace(conformant(case, "GET", "items:read"), status=407, field="Proxy-Authenticate") for case in UNAUTHORIZED
    },
    "/case-sensitive-scheme": {"valid:lowercase-scheme": CHALLENGE, "valid:uppercase-scheme": CHALLENGE},
    "/empty-token-accepted": {"malformed:scheme-alone": GRANTED, "malformed:empty-token": GRANTED},
    # The demo's own expired token is a well-signed JWT past its exp.
    "/jwt/exp-not-checked": {"expired": GRANTED},
}


def rows() -> list[object]:
    """Every (demo, endpoint, case) with its expected answer, as pytest params."""
    params: list[object] = []
    for name, endpoints in (
        ("demo", DEMO_ENDPOINTS),
        ("demo-broken", BROKEN_ENDPOINTS),
    ):
        for (method, path), scope in endpoints.items():
            for case in AUTHORIZATIONS:
                expect = conformant(case, method, scope)
                if name == "demo-broken":
                    expect = FAULTS.get(path, {}).get(case, expect)
                params.append(
                    pytest.param(
                        name,
                        method,
                        path,
                        case,
                        expect,
                        id=f"{name} {method} {path} {case}",
                    )
                )
    return params


def fill(template: str, demo: RunningDemo) -> str:
    """Put the demo's real tokens into an Authorization template."""
    target = demo.target
    assert isinstance(target.expired, Secret)
    tokens = {
        role: secret.reveal()
        for role, secret in target.credentials.items()
        if isinstance(secret, Secret)
    }
    return template.format(expired=target.expired.reveal(), **tokens)


def realm_of(demo: RunningDemo) -> str:
    """The realm each demo names in its challenges."""
    return demo.target.name


@pytest.fixture(scope="module")
def demos() -> Iterator[Mapping[str, RunningDemo]]:
    """Every embedded API, started once for the module and stopped after it."""
    running = {name: start_demo(name) for name in EMBEDDED_NAMES}
    yield running
    for demo in running.values():
        demo.stop()


@pytest.fixture
def demo(demos: Mapping[str, RunningDemo]) -> RunningDemo:
    """The conformant API."""
    return demos["demo"]


@pytest.fixture
def broken(demos: Mapping[str, RunningDemo]) -> RunningDemo:
    """The API with the planted mistakes."""
    return demos["demo-broken"]


@pytest.fixture
def session() -> Iterator[requests.Session]:
    """A requests session that never follows redirects on its own."""
    with requests.Session() as http:
        yield http


def send(
    http: requests.Session,
    demo: RunningDemo,
    method: str,
    path: str,
    authorization: str | None = None,
    **headers: str,
) -> requests.Response:
    """Send one request to ``demo`` and read the whole answer."""
    if authorization is not None:
        headers["Authorization"] = authorization
    with http.request(
        method,
        demo.target.base_url + path,
        headers=headers,
        allow_redirects=False,
        timeout=10,
    ) as response:
        response.content  # noqa: B018 - read the body before the connection closes
        return response


def send_raw(
    demo: RunningDemo, path: str, header_lines: list[tuple[str, str]]
) -> tuple[int, str | None, bytes]:
    """Send a GET with header lines as given (repeats included); return status, challenge, body."""
    address = urlsplit(demo.target.base_url)
    connection = http.client.HTTPConnection(
        address.hostname or "", address.port, timeout=10
    )
    try:
        connection.putrequest("GET", path)
        for name, value in header_lines:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.getheader("WWW-Authenticate"), response.read()
    finally:
        connection.close()


# Every rule, on every endpoint of both demos.


@pytest.mark.parametrize(("name", "method", "path", "case", "expect"), rows())
def test_endpoint_answers_case_as_specified(
    demos: Mapping[str, RunningDemo],
    session: requests.Session,
    name: str,
    method: str,
    path: str,
    case: str,
    expect: Expect,
) -> None:
    # Given the request of the case, with the demo's real tokens
    demo = demos[name]
    template = AUTHORIZATIONS[case]
    authorization = None if template is None else fill(template, demo)

    # When it is sent
    response = send(session, demo, method, path, authorization)

    # Then status and challenge, in the field it belongs to, are exactly as specified
    fields = ("WWW-Authenticate", "Proxy-Authenticate")
    actual = (response.status_code, *(response.headers.get(f) for f in fields))
    line = expect.line(realm_of(demo))
    assert actual == (expect.status, *(line if f == expect.field else None for f in fields))

    # And the payload reaches only requests that were let through (or leaked on purpose)
    if 200 <= response.status_code < 300:
        assert LEAK_MARKER in response.text
        assert response.headers["Cache-Control"] == "no-store"
    else:
        assert (LEAK_MARKER in response.text) == expect.leaks


# Conformant details beyond status and challenge.


def test_refusal_body_is_json_error(
    demo: RunningDemo, session: requests.Session
) -> None:
    response = send(session, demo, "GET", "/items")

    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"error": "Authentication required"}


def test_granted_body_names_role_and_data(
    demo: RunningDemo, session: requests.Session
) -> None:
    response = send(session, demo, "GET", "/items/1", fill("Bearer {reader}", demo))

    assert response.json() == {
        "marker": LEAK_MARKER,
        "endpoint": "GET /items/1",
        "role": "reader",
        "data": {"id": 1, "name": "first"},
    }


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("Bearer {admin}", 200), ("Bearer", 400)],
    ids=["missing", "valid", "malformed"],
)
def test_head_answers_like_get_without_body(
    demo: RunningDemo, session: requests.Session, authorization: str | None, status: int
) -> None:
    # Given the same request sent as GET and as HEAD
    value = None if authorization is None else fill(authorization, demo)
    get = send(session, demo, "GET", "/items", value)
    head = send(session, demo, "HEAD", "/items", value)

    # Then HEAD gets GET's status and challenge, and no content
    assert (head.status_code, head.headers.get("WWW-Authenticate")) == (
        status,
        get.headers.get("WWW-Authenticate"),
    )
    assert get.status_code == status
    assert head.content == b""


@pytest.mark.parametrize("name", BEARER_DEMOS)
def test_unknown_path_is_not_found(
    demos: Mapping[str, RunningDemo], session: requests.Session, name: str
) -> None:
    response = send(
        session, demos[name], "GET", "/nowhere", fill("Bearer {admin}", demos[name])
    )

    assert response.status_code == 404
    assert "WWW-Authenticate" not in response.headers


def test_other_method_on_known_path_is_not_allowed(
    demo: RunningDemo, session: requests.Session
) -> None:
    response = send(session, demo, "PUT", "/items/1", fill("Bearer {admin}", demo))

    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET, HEAD"


@pytest.mark.parametrize("name", BEARER_DEMOS)
@pytest.mark.parametrize(
    "header_lines",
    [
        [("Authorization", "Bearer {admin}"), ("Authorization", "Bearer {reader}")],
        [("Authorization", "Bearer {admin}"), ("Authorization", "Bearer {admin}")],
        [("Authorization", "Bearer {admin}"), ("Authorization", "garbage")],
    ],
    ids=["admin-then-reader", "same-token-twice", "valid-then-garbage"],
)
def test_two_authorization_lines_are_malformed(
    demos: Mapping[str, RunningDemo], name: str, header_lines: list[tuple[str, str]]
) -> None:
    # Given two Authorization field lines, which RFC 9110 §5.3 forbids
    demo = demos[name]
    lines = [(field, fill(value, demo)) for field, value in header_lines]

    # When they reach a conformant endpoint
    status, challenge, body = send_raw(demo, "/items", lines)

    # Then the request is refused as malformed
    assert (status, challenge) == (400, MALFORMED.line(name))
    assert LEAK_MARKER.encode() not in body


@pytest.mark.parametrize("name", BEARER_DEMOS)
@pytest.mark.parametrize(
    ("field", "size"),
    [
        ("Authorization", 40 * 1024),
        ("Authorization", 64 * 1024),
        ("X-Padding", 40 * 1024),
    ],
    ids=["authorization-40k", "authorization-64k", "other-field-40k"],
)
def test_oversized_field_gets_431(
    demos: Mapping[str, RunningDemo],
    session: requests.Session,
    name: str,
    field: str,
    size: int,
) -> None:
    # Given a field beyond the 32 KiB limit, next to a valid token (a line
    # over 64 KiB is refused by http.server itself, a shorter one by the app)
    demo = demos[name]
    headers = {"Authorization": fill("Bearer {admin}", demo)}
    headers[field] = "Bearer " + "A" * size if field == "Authorization" else "A" * size

    # When it is sent, the answer is a 431, not a connection reset
    response = send(session, demo, "GET", "/items", **headers)

    assert response.status_code == 431
    assert LEAK_MARKER not in response.text


def test_field_just_under_limit_is_judged(
    demo: RunningDemo, session: requests.Session
) -> None:
    response = send(session, demo, "GET", "/items", "Bearer " + "A" * (32 * 1024 - 7))

    assert (response.status_code, response.headers.get("WWW-Authenticate")) == (
        401,
        INVALID.line("demo"),
    )


# The planted mistakes, in the detail the table above does not show.


def test_forbidden_when_missing_sends_detail_body(
    broken: RunningDemo, session: requests.Session
) -> None:
    response = send(session, broken, "GET", "/forbidden-when-missing")

    assert response.json() == {"detail": "Not authenticated"}


def test_login_redirect_points_at_html_login(
    broken: RunningDemo, session: requests.Session
) -> None:
    # Given the redirect a request without credentials gets
    redirect = send(session, broken, "GET", "/login-redirect")
    assert redirect.headers["Location"] == "/login?next=/login-redirect"

    # When the login page is fetched without credentials
    login = send(session, broken, "GET", redirect.headers["Location"])

    # Then it is an unprotected HTML page
    assert login.status_code == 200
    assert login.headers["Content-Type"].startswith("text/html")
    assert LEAK_MARKER not in login.text


def test_crash_sends_python_traceback(
    broken: RunningDemo, session: requests.Session
) -> None:
    response = send(session, broken, "GET", "/crash-on-malformed", "Bearer")

    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text.startswith("Traceback (most recent call last):")
    assert "IndexError" in response.text


def test_crash_endpoint_survives_wellformed_values(
    broken: RunningDemo, session: requests.Session
) -> None:
    response = send(
        session, broken, "GET", "/crash-on-malformed", "Basic YWRtaW46YWRtaW4="
    )

    assert response.status_code == 401


def test_leaky_refusal_sends_the_payload_with_its_401(
    broken: RunningDemo, session: requests.Session
) -> None:
    response = send(session, broken, "GET", "/leaky-refusal")

    assert response.status_code == 401
    assert response.json() == {
        "marker": LEAK_MARKER,
        "endpoint": "GET /leaky-refusal",
        "role": None,
        "data": {"id": 1, "name": "first"},
    }


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer x"])
def test_empty_refusal_body_refuses_with_no_content(
    broken: RunningDemo, session: requests.Session, authorization: str | None
) -> None:
    response = send(session, broken, "GET", "/empty-refusal-body", authorization)

    assert response.status_code in (400, 401)
    assert response.content == b""


def test_proxy_auth_required_names_the_proxy_status(
    broken: RunningDemo, session: requests.Session
) -> None:
    response = send(session, broken, "GET", "/proxy-auth-required")

    assert response.reason == "PROXY AUTHENTICATION REQUIRED"
    assert "WWW-Authenticate" not in response.headers


def test_hidden_endpoint_looks_like_an_unknown_path(
    broken: RunningDemo, session: requests.Session
) -> None:
    # Given a reader's token, which the endpoint hides itself from
    reader = fill("Bearer {reader}", broken)

    # Then its 404 matches that of a path that does not exist
    hidden = send(session, broken, "GET", "/admin/hidden", reader)
    absent = send(session, broken, "GET", "/admin/nowhere", reader)

    assert (hidden.status_code, hidden.content) == (absent.status_code, absent.content)
    assert hidden.headers["Content-Type"] == absent.headers["Content-Type"]


def test_login_page_exists_only_on_broken_demo(
    demo: RunningDemo, session: requests.Session
) -> None:
    assert send(session, demo, "GET", "/login").status_code == 404


# The target each start describes.


def test_demo_target_describes_endpoints_and_roles(demo: RunningDemo) -> None:
    target = demo.target

    assert [(e.label, e.roles) for e in target.endpoints] == [
        ("GET /items", None),
        ("POST /items", ("admin",)),
        ("GET /items/1", None),
        ("DELETE /items/1", ("admin",)),
        ("GET /admin/stats", ("admin",)),
    ]
    assert (target.name, target.scheme, target.embedded, target.leak_marker) == (
        "demo",
        "bearer",
        "demo",
        "demo-protected-payload",
    )
    assert target.base_url.startswith("http://127.0.0.1:")


def test_broken_target_lists_one_endpoint_per_fault(broken: RunningDemo) -> None:
    expected = [
        (f"{method} {path}", None if scope == "items:read" else ("admin",))
        for (method, path), scope in BROKEN_ENDPOINTS.items()
    ]

    assert [(e.label, e.roles) for e in broken.target.endpoints] == expected
    assert broken.target.embedded == "demo-broken"


def test_credentials_are_distinct_masked_secrets(demo: RunningDemo) -> None:
    target = demo.target
    secrets = [
        target.credentials["admin"],
        target.credentials["reader"],
        target.expired,
    ]

    assert list(target.credentials) == ["admin", "reader"]
    assert all(isinstance(s, Secret) and s.reveal().count(".") == 2 for s in secrets)
    assert len(set(secrets)) == 3
    assert all(s.reveal() not in repr(target) for s in secrets if isinstance(s, Secret))


def test_tokens_are_jwts_signed_with_the_exposed_key(demo: RunningDemo) -> None:
    # Issue 4: the target's jwt.key lets the suite mint re-signed variants.
    target = demo.target
    assert target.jwt is not None and target.jwt.key is not None and target.jwt.algorithm == "HS256"
    key = target.jwt.key.reveal()
    admin = target.credentials["admin"]
    assert isinstance(admin, Secret) and isinstance(target.expired, Secret)

    claims = jwt.decode(admin.reveal(), key, algorithms=["HS256"], audience=demo_jwt.AUDIENCE, issuer=demo_jwt.ISSUER)
    assert (claims["role"], claims["scope"]) == ("admin", "items:read items:write admin")
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(target.expired.reveal(), key, algorithms=["HS256"], audience=demo_jwt.AUDIENCE)
    assert key not in repr(target)


def test_only_the_demo_with_an_rs256_verifier_exposes_a_public_key(demo: RunningDemo, broken: RunningDemo) -> None:
    # The key is what makes the suite send wrong:hs-rs-confusion (RFC 8725 §3.1).
    assert demo.target.jwt is not None and demo.target.jwt.public_key is None
    assert broken.target.jwt is not None and broken.target.jwt.public_key is not None
    assert broken.target.jwt.public_key.startswith("-----BEGIN PUBLIC KEY-----")


@pytest.mark.parametrize(
    ("path", "variant", "status"),
    [
        ("/items", "wrong:alg-none", 401),
        ("/jwt/alg-none-accepted", "wrong:alg-none", 200),
        ("/jwt/alg-none-accepted", "wrong:bad-signature", 401),
        ("/jwt/signature-not-verified", "wrong:tampered-claims", 200),
        ("/jwt/signature-not-verified", "expired:exp-passed", 401),
        ("/jwt/exp-not-checked", "expired:exp-passed", 200),
        ("/jwt/exp-not-checked", "wrong:signature-stripped", 401),
        ("/jwt/iss-aud-not-checked", "wrong:foreign-issuer", 200),
        ("/jwt/iss-aud-not-checked", "wrong:wrong-audience", 200),
        ("/jwt/iss-aud-not-checked", "expired:exp-passed", 401),
        ("/jwt/alg-from-header", "wrong:hs-rs-confusion", 200),
        ("/jwt/alg-from-header", "wrong:foreign-issuer", 401),
        ("/items", "wrong:hs-rs-confusion", 401),
    ],
)
def test_jwt_mistakes_let_through_their_variants_only(broken: RunningDemo, path: str, variant: str, status: int) -> None:
    target = broken.target
    kind, name = variant.split(":")
    probe = build_probe(target, Case(target.name, Endpoint("GET", path), kind, name))  # type: ignore[arg-type]

    response = requests.get(probe.url, headers=dict(probe.headers), timeout=5)

    assert response.status_code == status


def test_each_start_mints_fresh_tokens_and_port() -> None:
    first, second = start_demo("demo"), start_demo("demo")
    try:
        assert first.target.base_url != second.target.base_url
        assert first.target.credentials["admin"] != second.target.credentials["admin"]
        assert first.target.expired != second.target.expired
    finally:
        first.stop()
        second.stop()


# The Basic and API-key demos (RFC 7617; keys in X-API-Key).


def basic_of(demo: RunningDemo, role: str | None = None, encoding: str = "utf-8") -> str:
    """The Basic value of ``role``'s credential (None: the expired one), encoded as asked."""
    credential = demo.target.credentials[role] if role else demo.target.expired
    assert isinstance(credential, BasicCredential)
    return basic_value(credential.username, credential.password.reveal(), encoding)


def key_of(demo: RunningDemo, role: str | None = None) -> dict[str, str]:
    """The X-API-Key field of ``role``'s key (None: the expired one)."""
    key = demo.target.credentials[role] if role else demo.target.expired
    assert isinstance(key, Secret)
    return {"X-API-Key": key.reveal()}


BASIC_CHALLENGE = 'Basic realm="{realm}", charset="UTF-8"'


@pytest.mark.parametrize(
    ("name", "path", "role", "encoding", "status", "challenge"),
    [
        ("demo-basic", "/items", None, None, 401, BASIC_CHALLENGE),
        ("demo-basic", "/items", "reader", "utf-8", 200, None),
        # The reader's password holds non-ASCII letters; RFC 7617 §2.1 asks for UTF-8.
        ("demo-basic", "/items", "reader", "latin-1", 401, BASIC_CHALLENGE),
        ("demo-basic", "/admin/stats", "reader", "utf-8", 403, None),
        ("demo-basic-broken", "/no-realm", None, None, 401, 'Basic charset="UTF-8"'),
        ("demo-basic-broken", "/latin-1-charset", None, None, 401, 'Basic realm="{realm}", charset="ISO-8859-1"'),
        ("demo-basic-broken", "/unquoted-realm", None, None, 401, 'Basic realm={realm}, charset="UTF-8"'),
        ("demo-basic-broken", "/no-challenge", None, None, 401, None),
        ("demo-basic-broken", "/latin-1-decoding", "reader", "utf-8", 401, BASIC_CHALLENGE),
        ("demo-basic-broken", "/latin-1-decoding", "admin", "utf-8", 200, None),
    ],
)
def test_basic_demo_answers_as_specified(
    demos: Mapping[str, RunningDemo],
    session: requests.Session,
    name: str,
    path: str,
    role: str | None,
    encoding: str | None,
    status: int,
    challenge: str | None,
) -> None:
    demo = demos[name]
    authorization = basic_of(demo, role, encoding) if role and encoding else None

    response = send(session, demo, "GET", path, authorization)

    expected = None if challenge is None else challenge.format(realm=name)
    assert (response.status_code, response.headers.get("WWW-Authenticate")) == (status, expected)


def test_basic_demo_refuses_its_expired_password(demos: Mapping[str, RunningDemo], session: requests.Session) -> None:
    demo = demos["demo-basic"]

    response = send(session, demo, "GET", "/items", basic_of(demo))

    assert (response.status_code, response.json()) == (401, {"error": "The credentials expired"})


@pytest.mark.parametrize(
    ("credentials", "status"),
    [("!!not*base64%%", 500), ('not,a "token"', 500), ("YWRtaW4=", 401)],
    ids=["not-base64", "not-token68", "base64-without-colon"],
)
def test_crash_on_bad_base64_only_where_decoding_raises(
    demos: Mapping[str, RunningDemo], session: requests.Session, credentials: str, status: int
) -> None:
    response = send(session, demos["demo-basic-broken"], "GET", "/crash-on-bad-base64", f"Basic {credentials}")

    assert response.status_code == status
    assert ("binascii.Error" in response.text) == (status == 500)


def test_empty_basic_credentials_are_served_as_anonymous(demos: Mapping[str, RunningDemo], session: requests.Session) -> None:
    response = send(session, demos["demo-basic-broken"], "GET", "/empty-credentials-accepted", "Basic")

    assert (response.status_code, response.json()["role"]) == (200, None)


@pytest.mark.parametrize(
    ("name", "path", "role", "status", "challenge"),
    [
        ("demo-apikey", "/items", "", 401, 'APIKey realm="{realm}"'),
        ("demo-apikey", "/items", "reader", 200, None),
        ("demo-apikey", "/items", None, 401, 'APIKey realm="{realm}"'),
        ("demo-apikey", "/admin/stats", "reader", 403, None),
        ("demo-apikey-broken", "/no-challenge", "", 401, None),
        ("demo-apikey-broken", "/forbidden-when-missing", "", 403, None),
        ("demo-apikey-broken", "/reader-refused", "reader", 401, 'APIKey realm="{realm}"'),
        ("demo-apikey-broken", "/reader-refused", "admin", 200, None),
        ("demo-apikey-broken", "/admin/401-for-reader", "reader", 401, 'APIKey realm="{realm}"'),
    ],
)
def test_api_key_demo_answers_as_specified(
    demos: Mapping[str, RunningDemo],
    session: requests.Session,
    name: str,
    path: str,
    role: str | None,
    status: int,
    challenge: str | None,
) -> None:
    # role "" sends no key at all, None the expired one.
    demo = demos[name]
    headers = key_of(demo, role) if role != "" else {}

    response = send(session, demo, "GET", path, **headers)

    expected = None if challenge is None else challenge.format(realm=name)
    assert (response.status_code, response.headers.get("WWW-Authenticate")) == (status, expected)


def test_other_schemes_describe_their_credentials(demos: Mapping[str, RunningDemo]) -> None:
    basic, keys = demos["demo-basic"].target, demos["demo-apikey"].target

    assert (basic.scheme, basic.api_key, basic.jwt) == ("basic", None, None)
    assert all(isinstance(c, BasicCredential) and c.username == role for role, c in basic.credentials.items())
    assert (keys.scheme, keys.api_key) == ("api_key", ApiKeyPlacement("header", "X-API-Key"))
    assert len({keys.credentials["admin"], keys.credentials["reader"], keys.expired}) == 3
    assert [e.label for e in basic.endpoints] == [e.label for e in keys.endpoints] == [e.label for e in demos["demo"].target.endpoints]


# Lifecycle: names, stopping, silence.


def test_unknown_name_lists_embedded_targets() -> None:
    with pytest.raises(TargetStartError) as excinfo:
        start_demo("dmeo")

    assert (
        str(excinfo.value)
        == "No embedded target is called 'dmeo'; the embedded targets are 'demo', 'demo-broken', "
        "'demo-basic', 'demo-basic-broken', 'demo-apikey', 'demo-apikey-broken'."
    )


def test_stop_frees_port_promptly(session: requests.Session) -> None:
    # Given a demo that has answered a request
    running = start_demo("demo")
    port = urlsplit(running.target.base_url).port
    assert send(session, running, "GET", "/items").status_code == 401

    # When it is stopped
    started = time.monotonic()
    running.stop()

    # Then it stopped at once, refuses connections and its port can be bound again
    assert time.monotonic() - started < 1.0
    with pytest.raises(requests.ConnectionError):
        send(session, running, "GET", "/items")
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port or 0))


def test_requests_leave_no_output(
    demo: RunningDemo,
    session: requests.Session,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given werkzeug's logger listening at its most verbose
    caplog.set_level(logging.DEBUG, logger="werkzeug")

    # When requests of every outcome are served
    for authorization in (
        None,
        "Bearer",
        "Bearer x",
        fill("Bearer {admin}", demo),
        "Bearer " + "A" * 70000,
    ):
        send(session, demo, "GET", "/items", authorization)
    send(session, demo, "GET", "/nowhere")

    # Then nothing reached stderr, stdout or werkzeug's logger
    assert capfd.readouterr() == ("", "")
    assert [r for r in caplog.records if r.name.startswith("werkzeug")] == []
