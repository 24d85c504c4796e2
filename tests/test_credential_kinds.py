"""Issue 4: every credential kind audited end to end against a real server on 127.0.0.1.

Each test writes a targets.yaml for one server of ``credential_servers.py``,
runs the plugin through pytester and reads the JSON report it wrote.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from credential_servers import (
    FLASK_PASSWORDS,
    FLASK_TOKENS,
    JWT_AUDIENCE,
    JWT_SECRET,
    OAUTH_CLIENTS,
    TokenLog,
    build_fastapi_jwt_app,
    build_flask_app,
    drf_roles,
    serve_asgi,
    serve_drf,
    serve_wsgi,
)

from conformance.credentials import Wallet
from conformance.errors import CredentialError
from conformance.model import (
    ClientCredentialsGrant,
    Endpoint,
    JwtSettings,
    LoginRequest,
    Secret,
    Target,
    TokenSource,
)
from conformance.results import scrub
from conformance.transport import Transport

pytest_plugins = ["pytester"]

# Few generated values: these tests are about credentials, not the stream.
RUN = ("-p", "no:cacheprovider", "--conformance-examples=3")


@pytest.fixture(scope="module")
def flask_logins() -> dict[str, str]:
    """The tokens the Flask app's form login issued: token -> user."""
    return {}


@pytest.fixture(scope="module")
def flask_url(flask_logins: dict[str, str]) -> Iterator[str]:
    with serve_wsgi(build_flask_app(flask_logins)) as url:
        yield url


@pytest.fixture(scope="module")
def token_log() -> TokenLog:
    return TokenLog()


@pytest.fixture(scope="module")
def fastapi_url(token_log: TokenLog) -> Iterator[str]:
    with serve_asgi(build_fastapi_jwt_app(token_log)) as url:
        yield url


@pytest.fixture(scope="module")
def drf_url() -> Iterator[str]:
    with serve_drf() as url:
        yield url


@pytest.fixture(scope="module")
def digest_url() -> Iterator[str]:
    from httpbin import app

    with serve_wsgi(app) as url:
        yield url


def audit(pytester: pytest.Pytester, targets: str, target: str, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    pytester.makefile(".yaml", targets=targets)
    result = pytester.runpytest(f"--target={target}", *RUN, *args)
    report = json.loads((pytester.path / "reports" / f"{target}.json").read_text(encoding="utf-8"))
    return result, report


def by_id(report: dict[str, Any], endpoint: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in report["results"] if r["endpoint"] == endpoint}


def outcomes(report: dict[str, Any], outcome: str) -> set[tuple[str, str]]:
    return {(r["endpoint"], r["id"]) for r in report["results"] if r["outcome"] == outcome}


# --- Basic, with UTF-8 ----------------------------------------------------------


def test_basic_with_non_ascii_user_and_password_works(pytester: pytest.Pytester, flask_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given Flask-HTTPAuth Basic, a user name and a password beyond ASCII
    monkeypatch.setenv("JURGEN_PW", FLASK_PASSWORDS["jürgen"])
    targets = f"""
targets:
  flask-basic:
    base_url: {flask_url}
    scheme: basic
    credentials:
      admin: {{username: alice, password: "{FLASK_PASSWORDS['alice']}"}}
      jurgen: {{username: jürgen, password: "${{JURGEN_PW}}"}}
    endpoints:
      - GET /basic/me
      - {{method: GET, path: /basic/admin, roles: [admin]}}
"""

    result, report = audit(pytester, targets, "flask-basic")

    # Then both logins are accepted (sent as UTF-8) and every variant is judged
    me = by_id(report, "GET /basic/me")
    assert me["valid:jurgen"]["outcome"] == me["valid:admin"]["outcome"] == "pass"
    assert by_id(report, "GET /basic/admin")["unprivileged:jurgen"]["observed"]["status"] == 403
    assert {"wrong:empty-password", "wrong:colon-in-user", "malformed:latin-1", "malformed:generated"} <= set(me)
    assert outcomes(report, "error") == set()
    assert all(r["observed"]["status"] == 401 for i, r in me.items() if i.startswith("wrong:"))


# --- Bearer tokens: Flask-HTTPAuth, DRF ----------------------------------------


def test_flask_bearer_token_is_audited(pytester: pytest.Pytester, flask_url: str) -> None:
    alice, bob = list(FLASK_TOKENS)
    targets = f"""
targets:
  flask-token:
    base_url: {flask_url}
    scheme: bearer
    credentials: {{admin: "{alice}", reader: "{bob}"}}
    endpoints:
      - GET /token/me
      - {{method: GET, path: /token/admin, roles: [admin]}}
"""

    _, report = audit(pytester, targets, "flask-token")

    me = by_id(report, "GET /token/me")
    assert me["valid:reader"]["outcome"] == "pass"
    for variant in ("random-token", "truncated", "flipped-char", "misplaced"):
        assert me[f"wrong:{variant}"]["observed"]["status"] == 401, variant
    assert outcomes(report, "error") == set()


def test_drf_token_and_session_cookie_come_from_logins(pytester: pytest.Pytester, drf_url: str) -> None:
    # Given DRF's obtain_auth_token and a session login, and no token in the file
    targets = f"""
targets:
  drf-token:
    base_url: {drf_url}
    scheme: bearer
    credentials:
{drf_roles("/api-token-auth/", "{json: token}")}
    endpoints:
      - GET /token/me
      - {{method: GET, path: /token/admin, roles: [staff]}}
  drf-session:
    base_url: {drf_url}
    scheme: cookie
    schemes: [cookie, bearer]
    credentials:
{drf_roles("/login/", "{cookie: sessionid}")}
    endpoints:
      - GET /session/me
      - {{method: GET, path: /session/admin, roles: [staff]}}
"""
    pytester.makefile(".yaml", targets=targets)

    pytester.runpytest("--target=drf-token,drf-session", *RUN)

    for name, endpoint, admin in (("drf-token", "GET /token/me", "GET /token/admin"), ("drf-session", "GET /session/me", "GET /session/admin")):
        report = json.loads((pytester.path / "reports" / f"{name}.json").read_text(encoding="utf-8"))
        cases = by_id(report, endpoint)
        assert cases["valid:staff"]["outcome"] == cases["valid:user"]["outcome"] == "pass", name
        assert cases["missing"]["observed"]["status"] == 401, name
        assert by_id(report, admin)["unprivileged:user"]["observed"]["status"] == 403, name
        assert outcomes(report, "error") == set(), name
    session = by_id(json.loads((pytester.path / "reports" / "drf-session.json").read_text(encoding="utf-8")), "GET /session/me")
    assert session["valid:staff"]["sent"] == "cookie sessionid: staff's credential <32 chars>"


def test_failed_login_is_an_error_naming_role_and_endpoint(pytester: pytest.Pytester, drf_url: str) -> None:
    targets = f"""
targets:
  drf-token:
    base_url: {drf_url}
    scheme: bearer
    credentials:
      staff: {{login: {{method: POST, path: /api-token-auth/, json: {{username: alice, password: wrong}}, token: {{json: token}}}}}}
    endpoints: [GET /token/me]
"""

    result, report = audit(pytester, targets, "drf-token")

    # Then nothing passes, and the error says whose login failed where
    assert outcomes(report, "pass") == set()
    assert report["summary"]["verdict"] != "conformant"
    expected = f"role 'staff': login POST /api-token-auth/ at {drf_url}/api-token-auth/ answered 400 Bad Request, so the role could not log in"
    assert any(r["message"] == expected for r in report["results"])
    result.stdout.fnmatch_lines([f"*could not be sent: {expected}*"])


# --- a form login that answers with the token in a header ------------------------


def form_login(user: str, password: str) -> LoginRequest:
    # As targets.yaml's `form:` builds it: form-encoded, UTF-8.
    body = Secret(urlencode({"username": user, "password": password}))
    return LoginRequest("POST", "/login", TokenSource("header", "X-Token"), body, "application/x-www-form-urlencoded")


def test_header_token_of_a_form_login_is_kept_without_its_scheme(flask_url: str, flask_logins: dict[str, str]) -> None:
    # Given a form login, with a user name and password beyond ASCII, that answers "X-Token: Bearer <token>"
    target = Target("w", "bearer", flask_url, (Endpoint("GET", "/token/me"),), {"jurgen": form_login("jürgen", FLASK_PASSWORDS["jürgen"])})
    wallet = Wallet(target, Transport())

    # When the wallet logs the role in
    token = wallet.get("jurgen")

    # Then it holds the token the server issued, "Bearer " dropped, and keeps it
    assert isinstance(token, Secret)
    assert flask_logins[token.reveal()] == "jürgen"
    assert wallet.get("jurgen") is token
    assert wallet.obtained() == (token,)


def test_form_login_with_a_wrong_password_is_an_error(flask_url: str) -> None:
    target = Target("w", "bearer", flask_url, (Endpoint("GET", "/token/me"),), {"web": form_login("alice", "not-her-password")})

    with pytest.raises(CredentialError) as excinfo:
        Wallet(target, Transport()).get("web")

    assert str(excinfo.value) == f"role 'web': login POST /login at {flask_url}/login answered 401 UNAUTHORIZED, so the role could not log in"


def test_roles_logged_in_by_form_with_header_tokens_are_audited(pytester: pytest.Pytester, flask_url: str, flask_logins: dict[str, str]) -> None:
    # Given two roles that log in with a form and get their token in X-Token
    login = "{{login: {{method: POST, path: /login, form: {{username: {user}, password: \"{pw}\"}}, token: {{header: X-Token}}}}}}"
    targets = f"""
targets:
  flask-login:
    base_url: {flask_url}
    scheme: bearer
    credentials:
      admin: {login.format(user="alice", pw=FLASK_PASSWORDS["alice"])}
      jurgen: {login.format(user="jürgen", pw=FLASK_PASSWORDS["jürgen"])}
    endpoints:
      - GET /token/me
      - {{method: GET, path: /token/admin, roles: [admin]}}
"""
    before = set(flask_logins)

    result, report = audit(pytester, targets, "flask-login", "-rA")

    # Then each role logged in once, its token works, and nothing errs
    issued = set(flask_logins) - before
    assert sorted(flask_logins[t] for t in issued) == ["alice", "jürgen"]
    me = by_id(report, "GET /token/me")
    assert me["valid:admin"]["outcome"] == me["valid:jurgen"]["outcome"] == "pass"
    assert by_id(report, "GET /token/admin")["unprivileged:jurgen"]["observed"]["status"] == 403
    for variant in ("random-token", "truncated", "flipped-char", "misplaced"):
        assert me[f"wrong:{variant}"]["observed"]["status"] == 401, variant
    assert outcomes(report, "error") == set()

    # And neither token nor password reaches the output or the reports
    written = (pytester.path / "reports" / "flask-login.json").read_text(encoding="utf-8")
    written += (pytester.path / "reports" / "flask-login.html").read_text(encoding="utf-8")
    for secret in (*issued, *FLASK_PASSWORDS.values()):
        assert secret not in written
        assert secret not in result.stdout.str()


# --- OAuth 2 client credentials and JWT ------------------------------------------


def fastapi_targets(url: str, jwt: str, endpoints: str = "[GET /items, {method: DELETE, path: /items/1, roles: [ops]}]") -> str:
    grant = "{{client_credentials: {{token_url: {url}/oauth/token, client_id: {id}, client_secret: {secret}, scope: \"{scope}\"}}}}"
    return f"""
targets:
  fastapi-jwt:
    base_url: {url}
    scheme: bearer
    credentials:
      ops: {grant.format(url=url, id="ops", secret=OAUTH_CLIENTS["ops"][0], scope="items:read items:write")}
      viewer: {grant.format(url=url, id="viewer", secret=OAUTH_CLIENTS["viewer"][0], scope="items:read")}
    jwt: {jwt}
    endpoints: {endpoints}
"""


JWT_CASES = {
    "expired:exp-passed",
    "expired:not-yet-valid",
    "wrong:bad-signature",
    "wrong:alg-none",
    "wrong:signature-stripped",
    "wrong:tampered-claims",
    "wrong:foreign-issuer",
    "wrong:wrong-audience",
}


def test_client_credentials_tokens_and_every_jwt_variant_are_refused(pytester: pytest.Pytester, fastapi_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given FastAPI's OAuth2 scopes tutorial, tokens fetched at run time and the signing key
    monkeypatch.setenv("JWT_SECRET", JWT_SECRET)
    result, report = audit(pytester, fastapi_targets(fastapi_url, '{key: "${JWT_SECRET}", algorithm: HS256}'), "fastapi-jwt")

    # Then the controls pass, each JWT variant is its own case and is refused
    items = by_id(report, "GET /items")
    assert items["valid:ops"]["outcome"] == items["valid:viewer"]["outcome"] == "pass"
    assert JWT_CASES <= set(items)
    for case in JWT_CASES:
        assert (items[case]["outcome"], items[case]["observed"]["status"]) == ("pass", 401), case
    assert by_id(report, "DELETE /items/1")["unprivileged:viewer"]["observed"]["status"] == 401
    assert outcomes(report, "error") == set()
    # Only the static expired credential, which the file does not give, is missing.
    assert outcomes(report, "skip") == {("GET /items", "expired"), ("DELETE /items/1", "expired")}


def test_jwt_variants_without_a_key_are_skipped_with_the_reason(pytester: pytest.Pytester, fastapi_url: str) -> None:
    _, report = audit(pytester, fastapi_targets(fastapi_url, "{}", "[GET /items]"), "fastapi-jwt")

    items = by_id(report, "GET /items")
    skipped = {case for case, r in items.items() if r["outcome"] == "skip"}
    assert skipped == {"expired", "expired:exp-passed", "expired:not-yet-valid", "wrong:foreign-issuer", "wrong:wrong-audience"}
    assert "give it as jwt.key in the targets file" in items["wrong:foreign-issuer"]["message"]
    assert items["wrong:alg-none"]["outcome"] == "pass"


def test_fetched_tokens_never_reach_output_or_reports(pytester: pytest.Pytester, fastapi_url: str, token_log: TokenLog) -> None:
    # Given an endpoint that echoes the token it got, and a run with failures
    before = set(token_log.tokens)
    result, report = audit(pytester, fastapi_targets(fastapi_url, "{}", "[GET /whoami]"), "fastapi-jwt", "-rA", "-v")

    # Then no token issued during the run appears in the output or the report
    issued = set(token_log.tokens) - before
    assert issued
    written = (pytester.path / "reports" / "fastapi-jwt.json").read_text(encoding="utf-8")
    written += (pytester.path / "reports" / "fastapi-jwt.html").read_text(encoding="utf-8")
    for token in issued:
        assert token not in result.stdout.str()
        assert token not in written
    assert "<redacted>" in by_id(report, "GET /whoami")["valid:ops"]["observed"]["body_excerpt"]


# --- how the client authenticates, and the audience it asks for -------------------


@pytest.mark.parametrize("client_auth", ["basic", "body"])
@pytest.mark.parametrize("client", ["ops", "odd:client"])
def test_client_authenticates_the_way_the_grant_says(fastapi_url: str, token_log: TokenLog, client: str, client_auth: str) -> None:
    # Given a client whose id or secret may hold characters form encoding changes
    secret, _, _ = OAUTH_CLIENTS[client]
    grant = ClientCredentialsGrant(f"{fastapi_url}/oauth/token", client, Secret(secret), client_auth=client_auth)  # type: ignore[arg-type]
    target = Target("w", "bearer", fastapi_url, (Endpoint("GET", "/items"),), {"role": grant})

    # When the wallet asks for a token
    token = Wallet(target, Transport()).get("role")

    # Then the endpoint saw the client authenticate that way only, and issued it the token
    assert token_log.client_auth[client] == client_auth
    assert isinstance(token, Secret) and token.reveal() == token_log.tokens[-1]
    assert jwt.decode(token.reveal(), JWT_SECRET, algorithms=["HS256"], audience=JWT_AUDIENCE)["sub"] == client


@pytest.mark.parametrize("audience", [None, JWT_AUDIENCE])
def test_audience_is_asked_for_only_when_given(fastapi_url: str, token_log: TokenLog, audience: str | None) -> None:
    grant = ClientCredentialsGrant(f"{fastapi_url}/oauth/token", "viewer", Secret(OAUTH_CLIENTS["viewer"][0]), audience=audience)
    target = Target("w", "bearer", fastapi_url, (Endpoint("GET", "/items"),), {"viewer": grant})

    Wallet(target, Transport()).get("viewer")

    assert token_log.audience["viewer"] == audience


def test_refused_audience_is_an_error_with_the_oauth_code(fastapi_url: str) -> None:
    grant = ClientCredentialsGrant(f"{fastapi_url}/oauth/token", "viewer", Secret(OAUTH_CLIENTS["viewer"][0]), audience="https://elsewhere.invalid/")
    target = Target("w", "bearer", fastapi_url, (Endpoint("GET", "/items"),), {"viewer": grant})

    with pytest.raises(CredentialError) as excinfo:
        Wallet(target, Transport()).get("viewer")

    assert str(excinfo.value) == (
        f"role 'viewer': client-credentials grant at {fastapi_url}/oauth/token answered 400 Bad Request without an access_token"
    )


def test_body_client_auth_and_audience_from_the_targets_file(pytester: pytest.Pytester, fastapi_url: str, token_log: TokenLog) -> None:
    # Given a targets file whose grant sends the secret in the form and names the audience
    secret = OAUTH_CLIENTS["viewer"][0]
    targets = f"""
targets:
  fastapi-body:
    base_url: {fastapi_url}
    scheme: bearer
    credentials:
      viewer:
        client_credentials: {{token_url: {fastapi_url}/oauth/token, client_id: viewer, client_secret: {secret},
                              client_auth: body, audience: "{JWT_AUDIENCE}"}}
    endpoints: [GET /items]
"""
    issued = token_log.issued.get("viewer", 0)

    result, report = audit(pytester, targets, "fastapi-body")

    # Then the role got its token that way, once, and the audit ran on it
    assert (token_log.client_auth["viewer"], token_log.audience["viewer"]) == ("body", JWT_AUDIENCE)
    assert token_log.issued["viewer"] == issued + 1
    assert by_id(report, "GET /items")["valid:viewer"]["outcome"] == "pass"
    assert outcomes(report, "error") == set()
    assert secret not in result.stdout.str()
    assert secret not in (pytester.path / "reports" / "fastapi-body.json").read_text(encoding="utf-8")


# --- the wallet: once per role, refreshed on expiry ------------------------------


def wallet_target(url: str, client: str = "short") -> Target:
    """A target whose one role, ``short``, gets its token as ``client``."""
    secret = OAUTH_CLIENTS.get(client, ("not-the-secret",))[0]
    grant = ClientCredentialsGrant(f"{url}/oauth/token", client, Secret(secret), scope="items:read")
    return Target("w", "bearer", url, (Endpoint("GET", "/items"),), {"short": grant})


def test_token_is_fetched_once_and_again_when_it_expires(fastapi_url: str, token_log: TokenLog) -> None:
    # Given a client whose tokens live 31 s, refreshed 30 s early, and a clock we move
    now = [time.time()]
    wallet = Wallet(wallet_target(fastapi_url), Transport(), clock=lambda: now[0])
    issued = token_log.issued.get("short", 0)

    first = wallet.get("short")
    assert wallet.get("short") is first
    assert token_log.issued["short"] == issued + 1

    now[0] += 2
    wallet.get("short")
    assert token_log.issued["short"] == issued + 2
    assert wallet.obtained()


def test_jwt_without_expires_in_is_fetched_again_by_its_exp(fastapi_url: str, token_log: TokenLog) -> None:
    # Given a token answer without expires_in, whose JWT lives 45 s and so is
    # fetched again 30 s early, at exp - 30, and a clock we move
    now = [time.time()]
    wallet = Wallet(wallet_target(fastapi_url, "jwt-only"), Transport(), clock=lambda: now[0])
    issued = token_log.issued.get("jwt-only", 0)

    first = wallet.get("short")
    assert isinstance(first, Secret)
    exp = jwt.decode(first.reveal(), options={"verify_signature": False})["exp"]
    assert "expires_in" not in token_log.answers[-1]

    # When the clock is just short of exp - 30, the token is kept
    now[0] = exp - 30 - 1
    assert wallet.get("short") is first
    assert token_log.issued["jwt-only"] == issued + 1

    # When it passes exp - 30, a new token is fetched
    now[0] = exp - 30 + 1
    second = wallet.get("short")
    assert isinstance(second, Secret) and second != first
    assert token_log.issued["jwt-only"] == issued + 2

    # And the new one is kept until its own exp - 30 (the server's clock did
    # not move with ours, so that moment is not 45 s after the first's)
    now[0] = jwt.decode(second.reveal(), options={"verify_signature": False})["exp"] - 30 - 1
    assert wallet.get("short") is second
    assert token_log.issued["jwt-only"] == issued + 2


def test_failed_grant_is_remembered_and_names_the_role(fastapi_url: str, token_log: TokenLog) -> None:
    wallet = Wallet(wallet_target(fastapi_url, "intruder"), Transport())

    with pytest.raises(CredentialError) as first:
        wallet.get("short")
    with pytest.raises(CredentialError) as second:
        wallet.get("short")

    assert second.value is first.value
    assert str(first.value) == (
        f"role 'short': client-credentials grant at {fastapi_url}/oauth/token answered 401 Unauthorized without an access_token"
    )
    assert "intruder" not in token_log.issued


def test_refused_login_is_an_error(fastapi_url: str) -> None:
    # A token endpoint asked without client authentication refuses the "login".
    login = LoginRequest("POST", "/oauth/token", TokenSource("json", "jwt"), Secret("grant_type=client_credentials"), "application/x-www-form-urlencoded")
    target = Target("w", "bearer", fastapi_url, (Endpoint("GET", "/items"),), {"web": login})

    with pytest.raises(CredentialError) as excinfo:
        Wallet(target, Transport()).get("web")

    assert str(excinfo.value) == f"role 'web': login POST /oauth/token at {fastapi_url}/oauth/token answered 401 Unauthorized, so the role could not log in"


# --- Digest, through requests' own support -------------------------------------


def test_httpbin_digest_is_audited(pytester: pytest.Pytester, digest_url: str) -> None:
    targets = f"""
targets:
  httpbin-digest:
    base_url: {digest_url}
    scheme: digest
    credentials:
      user: {{username: user, password: passwd}}
    endpoints: [GET /digest-auth/auth/user/passwd]
"""

    _, report = audit(pytester, targets, "httpbin-digest")

    cases = by_id(report, "GET /digest-auth/auth/user/passwd")
    assert cases["valid:user"]["outcome"] == "pass"
    assert cases["valid:user"]["sent"] == "Digest user's credential (user)"
    assert cases["missing"]["observed"]["www_authenticate"][0].startswith("Digest ")
    for variant in ("wrong-password", "unknown-user"):
        assert cases[f"wrong:{variant}"]["observed"]["status"] == 401, variant
    assert outcomes(report, "error") == set()


def test_report_names_the_digest_scheme(pytester: pytest.Pytester, digest_url: str, tmp_path: Path) -> None:
    targets = f"""
targets:
  httpbin-digest:
    base_url: {digest_url}
    scheme: digest
    credentials: {{user: {{username: user, password: passwd}}}}
    endpoints: [GET /digest-auth/auth/user/passwd]
"""

    _, report = audit(pytester, targets, "httpbin-digest", "-k", "missing")

    assert report["scheme"] == "digest"
    assert report["results"][0]["expected"] == "401 with a Digest challenge"


def test_client_secret_jwt_key_and_fetched_tokens_are_masked_if_echoed() -> None:
    grant = ClientCredentialsGrant("https://idp.example.com/token", "ops", Secret("client-secret-123"))
    target = Target("w", "bearer", "http://127.0.0.1:1", (Endpoint("GET", "/items"),), {"ops": grant}, jwt=JwtSettings(Secret("jwt-key-456")))

    text = scrub("a client-secret-123 b jwt-key-456 c fetched-789", target, (Secret("fetched-789"),))

    assert text == "a <redacted> b <redacted> c <redacted>"
