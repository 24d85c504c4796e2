"""The embedded reference APIs that `--target=demo`, `demo-broken` and their Basic and API-key twins start in-process.

All are served by werkzeug on a free port of 127.0.0.1. `demo` and
`demo-broken` are Bearer-token APIs (RFC 6750); `demo-basic`,
`demo-apikey` and their `-broken` twins, described at the end, share their
routes, server and some of their mistakes, and read credentials their own
way. Every start of a Bearer demo signs fresh JWTs (HS256, under a secret of
its own that the target exposes as ``jwt.key``) for the roles `admin` and
`reader` and an already expired one, so no credential outlives the run. A token is
valid only if it is one the start issued: any other JWT, however well
signed, is an unknown token.

`demo` is fully conformant (realm `demo`). Every protected endpoint answers:

| Request | Answer |
|---|---|
| no Authorization, or a scheme other than Bearer (`Basic ...`) | 401 `Bearer realm="demo"`, no error attribute (RFC 6750 §3.1) |
| Bearer + anything but one token68 (`Bearer`, `Bearer a b`, `a,b`, quotes, non-ASCII, TAB, two lines) | 400 `Bearer realm="demo", error="invalid_request", error_description="The Authorization header is malformed"` |
| unknown token | 401 `Bearer realm="demo", error="invalid_token", error_description="The access token is invalid"` |
| expired token | 401 `Bearer realm="demo", error="invalid_token", error_description="The access token expired"` |
| token of a role the endpoint refuses | 403 `Bearer realm="demo", error="insufficient_scope", scope="<endpoint scope>"` |
| token of an allowed role | 200 (201 for POST), JSON with the leak marker, `Cache-Control: no-store` |
| any header field value over 32 KiB | 431 |
| unknown path; known path, other method | 404; 405 with `Allow` |

The scheme name matches in any letter case and one or more SP may separate it
from the token (RFC 9110 §11.1, §11.4); HEAD is GET without content.

| Endpoint of `demo` | Scope | Roles |
|---|---|---|
| `GET /items`, `GET /items/1` | `items:read` | admin, reader |
| `POST /items`, `DELETE /items/1` | `items:write` | admin |
| `GET /admin/stats` | `admin` | admin |

`demo-broken` (realm `demo-broken`) is the same API with the common
mistakes planted, one per endpoint, so that the report shows each caught on
its own row; between them they make every check of `checks.py` that a
Bearer API can break fire. Endpoints need `items:read` (both roles) unless
said otherwise; every case not named in the table is answered as `demo`
answers it.

| Endpoint of `demo-broken` | Planted mistake |
|---|---|
| `GET /items` | none: the control row, every case passes |
| `GET /admin/stats` | none; scope `admin`, admin only, so `unprivileged:reader` passes with a 403 |
| `GET /no-challenge` | every refusal (missing, other scheme, malformed, unknown or expired token) is a 401 without `WWW-Authenticate` (RFC 9110 §11.6.1) |
| `GET /forbidden-when-missing` | no Authorization: 403 `{"detail": "Not authenticated"}` without a challenge (RFC 9110 §11.4, RFC 6750 §3) |
| `GET /expired-accepted` | the expired token gets a 200 (RFC 6750 §5.2) |
| `GET /login-redirect` | no Authorization: 302 to `/login?next=/login-redirect`, an unprotected HTML page (RFC 9110 §11.4) |
| `GET /crash-on-malformed` | a Bearer value that is not one token68, or any value without a space: 500 with a Python traceback as text (RFC 9110 §15.6) |
| `GET /error-on-missing` | no Authorization: 401 whose challenge names `error="invalid_token"`; a SHOULD NOT (RFC 6750 §3.1), so the case passes with a warning |
| `GET /unquoted-realm` | every challenge sends `realm=demo-broken`, not a quoted-string (RFC 9110 §11.5) |
| `GET /empty-list-member` | every challenge has an empty list member after the realm: `Bearer realm="demo-broken", , error=...`, or a trailing comma (RFC 9110 §5.6.1.1) |
| `GET /spaces-around-equals` | every challenge writes `realm = "demo-broken"`, whitespace around `=` (RFC 9110 §5.6.3) |
| `GET /needless-escape` | error descriptions escape their apostrophes: `isn\'t` (RFC 9110 §5.6.4, a SHOULD NOT: warning) |
| `GET /repeated-error` | every challenge with an error names it twice: `error="invalid_token", error="invalid_token"` (RFC 9110 §11.2, RFC 6750 §3) |
| `GET /missing-commas` | auth-params separated by spaces, so no challenge parses: `Bearer realm="demo-broken" scope="items:read"`; sent on the 200s too (RFC 9110 §11.6.1) |
| `GET /basic-challenge` | every refusal challenges `Basic realm="demo-broken"` only (RFC 6750 §3) |
| `GET /bare-challenge` | every refusal challenges a bare `Bearer` (RFC 6750 §3, a MUST graded warning; and no error code: warning) |
| `GET /invalid-request-on-401` | unknown and expired tokens: 401 with `error="invalid_request"`, the code for 400 (RFC 6750 §3.1, warning) |
| `GET /expired-without-error` | expired token: 401 whose challenge has no `error` (RFC 6750 §3, warning) |
| `GET /expired-token-code` | expired token: 401 with `error="expired_token"`, not a Bearer code (RFC 6750 §3.1) |
| `GET /non-ascii-description` | error descriptions in French, outside ASCII: `Le jeton d'accès a expiré` (RFC 6750 §3) |
| `GET /expired-gets-400` | expired token: 400 with the right `invalid_token` challenge (RFC 9110 §11.4, RFC 6750 §3.1, warnings) |
| `GET /admin/scope-not-checked` | scope `admin`; the reader's token gets a 200: the scope is never checked (RFC 6749 §7) |
| `GET /admin/403-without-error` | scope `admin`; the reader's token: 403 `Bearer realm="demo-broken"` without `insufficient_scope` (RFC 6750 §3.1, warning) |
| `GET /admin/401-for-reader` | scope `admin`; the reader's token: 401 instead of 403 (RFC 6750 §3.1, warning) |
| `GET /admin/hidden` | scope `admin`; the reader's token: the 404 of an unknown path. Not a mistake (RFC 9110 §15.5.4 allows it): every case passes |
| `GET /leaky-refusal` | every 401 carries the protected payload (RFC 6749 §7) |
| `GET /empty-refusal-body` | every 400 and 401 has an empty body (RFC 9110 §15.5, warning) |
| `GET /proxy-auth-required` | every 401 is a 407 with the challenge in `Proxy-Authenticate` (RFC 9110 §15.5.8) |
| `GET /case-sensitive-scheme` | `bearer` and `BEARER` are refused as another scheme would be: 401 `Bearer realm="demo-broken"` (RFC 9110 §11.1) |
| `GET /empty-token-accepted` | `Bearer` with no token is served as anonymous, with a 200 (RFC 6750 §2.1) |
| `GET /jwt/alg-none-accepted` | a JWT whose header says `alg: none` is taken without a signature (RFC 8725 §3.1) |
| `GET /jwt/signature-not-verified` | a JWT's claims are read and checked, its signature never (RFC 8725 §3.3) |
| `GET /jwt/exp-not-checked` | a JWT's signature is checked, its `exp` and `nbf` never (RFC 7519 §4.1.4, §4.1.5) |
| `GET /jwt/iss-aud-not-checked` | a JWT's signature and lifetime are checked, its `iss` and `aud` never (RFC 8725 §3.8, RFC 7519 §4.1.3) |
| `GET /jwt/alg-from-header` | the token's header picks the algorithm, and the RSA public key (`jwt.public_key`) keys HS256 too (RFC 8725 §3.1) |

`demo-basic` (RFC 7617) has the endpoints of `demo`. Each start draws a
password per role, the reader's with letters outside ASCII, and the admin's
old password, which expired an hour ago. Every refusal but 431 is a 401
`Basic realm="demo-basic", charset="UTF-8"`; user-pass is decoded as UTF-8
(RFC 7617 §2.1); a role the endpoint refuses gets a 403 without a challenge.
`demo-basic-broken` plants, with the control rows `GET /items` and
`GET /admin/stats` first:

| Endpoint of `demo-basic-broken` | Planted mistake |
|---|---|
| `GET /no-realm` | every challenge is `Basic charset="UTF-8"`, without realm (RFC 7617 §2) |
| `GET /latin-1-charset` | every challenge advertises `charset="ISO-8859-1"` (RFC 7617 §2.1) |
| `GET /no-challenge` | every 401 lacks `WWW-Authenticate` (RFC 9110 §11.6.1) |
| `GET /unquoted-realm` | `Basic realm=demo-basic-broken, charset="UTF-8"` (RFC 9110 §11.5) |
| `GET /latin-1-decoding` | user-pass decoded as Latin-1, so the reader's non-ASCII password is refused (RFC 7617 §2.1) |
| `GET /crash-on-bad-base64` | credentials that are not base64: 500 with a Python traceback (RFC 9110 §15.6) |
| `GET /empty-credentials-accepted` | `Basic` with nothing after it gets a 200 (RFC 7617 §2) |

`demo-apikey` takes the key in `X-API-Key`: a key per role and one that
expired. Every refusal is a 401 `APIKey realm="demo-apikey"` (no scheme is
registered for keys, so RFC 9110 §11.6.1 is met by any), and a role the
endpoint refuses gets a 403. `demo-apikey-broken` plants:

| Endpoint of `demo-apikey-broken` | Planted mistake |
|---|---|
| `GET /no-challenge` | every 401 lacks `WWW-Authenticate` (RFC 9110 §11.6.1) |
| `GET /forbidden-when-missing` | no key (or a key under another name): 403 without a challenge (RFC 9110 §11.4) |
| `GET /reader-refused` | the reader's valid key gets a 401, as from a stale allow-list (RFC 9110 §15.5.2) |
| `GET /admin/401-for-reader` | scope `admin`; the reader's key: 401 with the challenge instead of 403 (RFC 9110 §15.5.4, a note) |
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from . import demo_jwt
from .errors import TargetStartError
from .model import (
    EMBEDDED_NAMES,
    ApiKeyPlacement,
    BasicCredential,
    Endpoint,
    JwtSettings,
    Presentable,
    Scheme,
    Secret,
    Target,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from werkzeug.serving import BaseWSGIServer

LEAK_MARKER = "demo-protected-payload"

_LOG = logging.getLogger("conformance.demo")
_HOST = "127.0.0.1"
_MAX_FIELD_BYTES = 32 * 1024

# What each role's tokens grant; an endpoint is open to the roles holding its scope.
_ROLE_SCOPES: Mapping[str, tuple[str, ...]] = {
    "admin": ("items:read", "items:write", "admin"),
    "reader": ("items:read",),
}
_EXPIRED_ROLE = "admin"
# Valid tokens outlive any run; each start issues new ones.
_LIFETIME = 24 * 3600

# RFC 9110 §11.1 (auth-scheme = token) and §11.2/§11.4 (1*SP then token68).
_SCHEME = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+)(.*)", re.DOTALL)
_TOKEN68 = re.compile(r" +([A-Za-z0-9._~+/-]+=*)")
# RFC 7617 §2: user-pass excludes control characters.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_API_KEY_HEADER = "X-API-Key"
_API_KEY = re.compile(r"[A-Za-z0-9._~+/-]+=*")

_TRACEBACK = """\
Traceback (most recent call last):
  File "/srv/app/auth.py", line 27, in current_user
    token = request.headers["Authorization"].split(" ")[1]
IndexError: list index out of range
"""

_LOGIN_PAGE = """\
<!doctype html>
<html><head><title>Sign in</title></head>
<body><form method="post" action="/login">
<input name="user"> <input name="password" type="password"> <button>Sign in</button>
</form></body></html>
"""

_Kind = Literal["missing", "other_scheme", "malformed", "unknown", "expired", "valid"]


@dataclass(frozen=True)
class _Grant:
    """What a minted token stands for: a role, until ``expires_at`` (None: never)."""

    role: str
    expires_at: float | None = None


@dataclass(frozen=True)
class _Presented:
    """What a request's Authorization field amounts to.

    ``value`` is the field value without surrounding whitespace, ``role`` the
    role of a known (valid or expired) token.
    """

    kind: _Kind
    value: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class _Layout:
    """How a challenge is written out; the defaults follow RFC 9110 §11.

    ``scheme`` None names the API's own scheme. Every other value is a
    mistake planted on a broken demo: ``equals=" = "``
    puts whitespace around "=" (§5.6.3), ``separator=" "`` leaves out the
    commas so that nothing parses, ``empty_member`` leaves an empty list
    member after the realm (§5.6.1.1), ``escaped`` names the characters
    backslash-escaped in quoted values (§5.6.4 asks for DQUOTE and
    backslash only).
    """

    field: str = "WWW-Authenticate"
    scheme: str | None = None
    realm: bool = True
    quote_realm: bool = True
    equals: str = "="
    separator: str = ", "
    empty_member: bool = False
    escaped: str = '"\\'


@dataclass(frozen=True)
class _Answer:
    """A response before rendering; ``challenge`` None means no WWW-Authenticate.

    ``challenge`` holds the auth-params after ``realm``, which the API adds:
    ``()`` renders as ``Bearer realm="demo"`` on a Bearer API. ``layout``
    says how it is written out.
    """

    status: int
    challenge: tuple[tuple[str, str], ...] | None = None
    body: Mapping[str, Any] | str = field(default_factory=dict)
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    layout: _Layout = field(default_factory=_Layout)


# A fault rewrites the conformant answer for one endpoint.
_Fault = Callable[[_Presented, "_Route", _Answer], _Answer]


@dataclass(frozen=True)
class _Route:
    """One protected operation, the scope it needs and the mistake planted on it."""

    method: str
    path: str
    scope: str
    data: Mapping[str, Any]
    fault: _Fault | None = None

    @property
    def endpoint(self) -> Endpoint:
        """The operation as the auditor sees it, roles derived from the scopes."""
        allowed = tuple(
            role for role, scopes in _ROLE_SCOPES.items() if self.scope in scopes
        )
        roles = None if len(allowed) == len(_ROLE_SCOPES) else allowed
        return Endpoint(self.method, self.path, roles)


@dataclass(frozen=True)
class _Issued:
    """What one start hands out: the grants the API knows, and what the suite presents.

    ``grants`` maps what a request presents (a token, an API key, Basic's
    decoded ``user:password``) to what it stands for.
    """

    grants: Mapping[str, _Grant]
    credentials: Mapping[str, Presentable]
    expired: Presentable | None = None
    jwt: JwtSettings | None = None


@dataclass(frozen=True)
class _Guard:
    """How an embedded API authenticates: one per scheme.

    ``read`` sorts a request's credentials, ``conformant`` answers them as
    the RFCs ask, ``issue`` mints one start's credentials at a given time.
    """

    scheme: Scheme
    challenge_scheme: str
    read: Callable[[Request, Mapping[str, _Grant], float], _Presented]
    conformant: Callable[[_Presented, _Route], _Answer]
    issue: Callable[[float], _Issued]
    api_key: ApiKeyPlacement | None = None


@dataclass(frozen=True)
class _ApiSpec:
    """One embedded API: its realm, guard, protected routes and unprotected HTML pages."""

    realm: str
    guard: _Guard
    routes: tuple[_Route, ...]
    pages: Mapping[str, str] = field(default_factory=dict)


def _classify(
    value: str | None, grants: Mapping[str, _Grant], now: float
) -> _Presented:
    """Sort an Authorization value: ``"bearer  abc"`` with abc unknown gives kind ``unknown``."""
    if value is None:
        return _Presented("missing")

    # Surrounding whitespace is not part of a field value (RFC 9110 §5.5).
    value = value.strip(" \t")
    scheme = _SCHEME.fullmatch(value)
    if scheme is None or scheme.group(1).lower() != "bearer":
        return _Presented("other_scheme", value)

    credentials = _TOKEN68.fullmatch(scheme.group(2))
    if credentials is None:
        return _Presented("malformed", value)

    return _by_grant(grants.get(credentials.group(1)), value, now)


def _by_grant(grant: _Grant | None, value: str, now: float) -> _Presented:
    """A well-formed credential: unknown, expired or valid, by the grant it names."""
    if grant is None:
        return _Presented("unknown", value)
    if grant.expires_at is not None and grant.expires_at <= now:
        return _Presented("expired", value, grant.role)
    return _Presented("valid", value, grant.role)


def _read_bearer(
    request: Request, grants: Mapping[str, _Grant], now: float
) -> _Presented:
    """Sort the Authorization field of ``request`` as a Bearer API does."""
    return _classify(request.headers.get("Authorization"), grants, now)


def _may_call(role: str | None, route: _Route) -> bool:
    """Tell whether the scopes of ``role`` include the one ``route`` needs."""
    return role is not None and route.scope in _ROLE_SCOPES[role]


def _granted(route: _Route, role: str | None) -> _Answer:
    """Serve the protected payload of ``route``."""
    body = {
        "marker": LEAK_MARKER,
        "endpoint": route.endpoint.label,
        "role": role,
        "data": route.data,
    }
    return _Answer(
        201 if route.method == "POST" else 200,
        body=body,
        headers=(("Cache-Control", "no-store"),),
    )


def _conformant(presented: _Presented, route: _Route) -> _Answer:
    """Answer as RFC 9110 §11 and RFC 6750 §3 ask."""
    if presented.kind in ("missing", "other_scheme"):
        return _Answer(401, (), {"error": "Authentication required"})

    if presented.kind == "malformed":
        return _refusal(400, "invalid_request", "The Authorization header is malformed")
    if presented.kind == "unknown":
        return _refusal(401, "invalid_token", "The access token is invalid")
    if presented.kind == "expired":
        return _refusal(401, "invalid_token", "The access token expired")

    if not _may_call(presented.role, route):
        challenge = (("error", "insufficient_scope"), ("scope", route.scope))
        return _Answer(
            403, challenge, {"error": "insufficient_scope", "scope": route.scope}
        )
    return _granted(route, presented.role)


def _refusal(status: int, error: str, description: str) -> _Answer:
    """Refuse with an RFC 6750 §3.1 error code in both challenge and body."""
    challenge = (("error", error), ("error_description", description))
    return _Answer(
        status, challenge, {"error": error, "error_description": description}
    )


def _no_challenge(presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
    """Turn every 400/401 into a 401 without WWW-Authenticate."""
    if answer.status in (400, 401):
        return _Answer(401, None, {"error": "Unauthorized"})
    return answer


def _forbidden_when_missing(
    presented: _Presented, route: _Route, answer: _Answer
) -> _Answer:
    """Refuse a request without Authorization with a bare 403."""
    if presented.kind == "missing":
        return _Answer(403, None, {"detail": "Not authenticated"})
    return answer


def _expired_accepted(presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
    """Serve an expired token as if it were still valid."""
    if presented.kind == "expired":
        return _granted(route, presented.role)
    return answer


def _login_redirect(presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
    """Send a request without Authorization to the HTML login page."""
    if presented.kind == "missing":
        location = f"/login?next={route.path}"
        return _Answer(
            302, None, f"Redirecting to {location}\n", headers=(("Location", location),)
        )
    return answer


def _crash_on_malformed(
    presented: _Presented, route: _Route, answer: _Answer
) -> _Answer:
    """Crash with a 500 on a value that ``value.split(" ")[1]`` cannot take apart."""
    no_space = presented.value is not None and " " not in presented.value
    if presented.kind == "malformed" or no_space:
        return _Answer(500, None, _TRACEBACK)
    return answer


def _error_on_missing(presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
    """Name an error on a request that carried no token (a SHOULD NOT, so a warning)."""
    if presented.kind == "missing":
        return _refusal(401, "invalid_token", "No access token was sent")
    return answer


# Challenge syntax (RFC 9110 §11, §5.6).


def _unquoted_realm(presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
    """Write the realm as a bare token: ``Bearer realm=demo-broken``."""
    return replace(answer, layout=_Layout(quote_realm=False))


def _empty_list_member(
    presented: _Presented, route: _Route, answer: _Answer
) -> _Answer:
    """Leave an empty list member where an optional scope would go: ``realm="demo-broken", , error=...``."""
    return replace(answer, layout=_Layout(empty_member=True))


def _spaces_around_equals(
    presented: _Presented, route: _Route, answer: _Answer
) -> _Answer:
    """Put spaces around every "=": ``Bearer realm = "demo-broken"``."""
    return replace(answer, layout=_Layout(equals=" = "))


def _needless_escape(presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
    """Escape apostrophes too, as a JavaScript string escaper would: ``isn\\'t``."""
    return replace(
        _described(answer, _CONTRACTED), layout=_Layout(escaped="\"\\'")
    )


def _repeated_error(presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
    """Name the error twice, as two layers of middleware that each add it."""
    params = answer.challenge or ()
    errors = [param for param in params if param[0] == "error"]
    return replace(answer, challenge=(errors[0], *params)) if errors else answer


def _missing_commas(presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
    """Separate auth-params with spaces, and name the scope in every challenge, a 200's too."""
    challenge = () if 200 <= answer.status < 300 else answer.challenge
    if challenge is None:
        return answer
    return replace(
        answer,
        challenge=(*challenge, ("scope", route.scope)),
        layout=_Layout(separator=" "),
    )


def _basic_challenge(presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
    """Challenge for Basic instead of Bearer, as a framework's default authenticator does."""
    if answer.challenge is None:
        return answer
    return replace(answer, challenge=(), layout=_Layout(scheme="Basic"))


def _bare_challenge(presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
    """Challenge with a bare ``Bearer``: no realm, no error."""
    if answer.challenge is None:
        return answer
    return replace(answer, challenge=(), layout=_Layout(realm=False))


# Bearer error attributes (RFC 6750 §3, §3.1).


def _invalid_request_on_401(
    presented: _Presented, route: _Route, answer: _Answer
) -> _Answer:
    """Call an unknown or expired token ``invalid_request``, the code that goes with 400."""
    if presented.kind in ("unknown", "expired"):
        return _with_param(answer, "error", "invalid_request")
    return answer


def _expired_without_error(
    presented: _Presented, route: _Route, answer: _Answer
) -> _Answer:
    """Leave the error code out of the challenge for an expired token."""
    if presented.kind == "expired":
        return _with_param(answer, "error", None)
    return answer


def _expired_token_code(
    presented: _Presented, route: _Route, answer: _Answer
) -> _Answer:
    """Call an expired token ``expired_token``, a device-flow code (RFC 8628) that Bearer lacks."""
    if presented.kind == "expired":
        return _with_param(answer, "error", "expired_token")
    return answer


def _non_ascii_description(
    presented: _Presented, route: _Route, answer: _Answer
) -> _Answer:
    """Describe errors in French, with letters outside ASCII: ``Le jeton d'accès a expiré``."""
    return _described(answer, _FRENCH)


def _expired_gets_400(presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
    """Refuse an expired token with 400 instead of 401, keeping the right challenge."""
    if presented.kind == "expired":
        return replace(answer, status=400)
    return answer


# Privileges (RFC 6750 §3.1, RFC 9110 §15.5.4).


def _scope_not_checked(
    presented: _Presented, route: _Route, answer: _Answer
) -> _Answer:
    """Serve every valid token: the scope check was forgotten."""
    if presented.kind == "valid":
        return _granted(route, presented.role)
    return answer


def _403_without_error(presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
    """Refuse a token without the scope with a 403 whose challenge names no error."""
    if answer.status == 403:
        return replace(answer, challenge=())
    return answer


def _401_for_role(presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
    """Refuse a token without the scope with 401 instead of 403."""
    if answer.status == 403:
        # A 401 must carry a challenge (RFC 9110 §11.6.1); keep that part right.
        return replace(answer, status=401, challenge=answer.challenge or ())
    return answer


def _hidden_from_role(presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
    """Answer a token without the scope as an unknown path is answered: 404."""
    if answer.status == 403:
        return _Answer(404, body={"error": "Not found"})
    return answer


# Bodies and status codes (RFC 6749 §7, RFC 9110 §15.5).


def _leaky_refusal(presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
    """Render the resource before checking the token, so every 401 carries the payload."""
    if answer.status == 401:
        return replace(answer, body=_granted(route, presented.role).body)
    return answer


def _empty_refusal_body(
    presented: _Presented, route: _Route, answer: _Answer
) -> _Answer:
    """Refuse with an empty body."""
    if 400 <= answer.status < 500:
        return replace(answer, body="")
    return answer


def _proxy_auth_required(
    presented: _Presented, route: _Route, answer: _Answer
) -> _Answer:
    """Answer 407 with Proxy-Authenticate wherever 401 with WWW-Authenticate is due."""
    if answer.status == 401:
        return replace(
            answer, status=407, layout=_Layout(field="Proxy-Authenticate")
        )
    return answer


# Reading the Authorization field (RFC 9110 §11.1, RFC 6750 §2.1).


def _case_sensitive_scheme(
    presented: _Presented, route: _Route, answer: _Answer
) -> _Answer:
    """Match the scheme as written, so that ``bearer`` and ``BEARER`` count as another scheme."""
    scheme = (presented.value or "").split(" ", 1)[0]
    if scheme.lower() == "bearer" and scheme != "Bearer":
        return _conformant(_Presented("other_scheme", presented.value), route)
    return answer


def _empty_credentials_accepted(
    presented: _Presented, route: _Route, answer: _Answer
) -> _Answer:
    """Serve a bare scheme word (``Bearer``, ``Basic``) as anonymous, as ``if token: validate(token)`` does."""
    scheme = _SCHEME.fullmatch(presented.value or "")
    if presented.kind == "malformed" and scheme is not None and not scheme.group(2):
        return _granted(route, None)
    return answer


# The descriptions of _refusal, reworded by two of the faults above.
_CONTRACTED = {
    "The Authorization header is malformed": "The Authorization header isn't well-formed",
    "The access token is invalid": "The access token isn't valid",
    "The access token expired": "The access token isn't valid any more",
}
_FRENCH = {
    "The Authorization header is malformed": "L'en-tête Authorization est mal formé",
    "The access token is invalid": "Le jeton d'accès est invalide",
    "The access token expired": "Le jeton d'accès a expiré",
}


def _with_param(answer: _Answer, name: str, value: str | None) -> _Answer:
    """Set (None: remove) one auth-param of the challenge, and the body's field of that name."""
    if answer.challenge is None:
        return answer
    params = [(n, v) for n, v in answer.challenge if n != name]
    body = answer.body
    if value is not None:
        params.insert(0, (name, value))
        if isinstance(body, Mapping) and name in body:
            body = {**body, name: value}
    return replace(answer, challenge=tuple(params), body=body)


def _described(answer: _Answer, descriptions: Mapping[str, str]) -> _Answer:
    """Reword the error_description of challenge and body."""
    if answer.challenge is None:
        return answer
    params = dict(answer.challenge)
    text = params.get("error_description")
    if text is None or text not in descriptions:
        return answer
    return _with_description(answer, descriptions[text])


def _with_description(answer: _Answer, text: str) -> _Answer:
    challenge = tuple(
        (n, text if n == "error_description" else v) for n, v in answer.challenge or ()
    )
    body = answer.body
    if isinstance(body, Mapping) and "error_description" in body:
        body = {**body, "error_description": text}
    return replace(answer, challenge=challenge, body=body)


@dataclass
class _JwtMistake:
    """Grant what a careless JWT verifier lets through (demo_jwt.py names the mistakes).

    ``secret`` is the start's signing secret and ``public_pem`` the RSA
    public key ``alg-from-header`` trusts, both bound when the demo starts.
    """

    mistake: demo_jwt.Mistake
    secret: str = ""
    public_pem: bytes = b""

    def __call__(self, presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
        if presented.kind not in ("unknown", "expired") or presented.value is None:
            return answer
        token = presented.value.split()[-1]
        role = demo_jwt.careless_role(token, self.secret, self.mistake, self.public_pem)
        if role is not None and route.scope in _ROLE_SCOPES.get(role, ()):
            return _granted(route, role)
        return answer


# Basic (RFC 7617) and API keys: the other schemes' demos share the routes
# and the server, and read credentials their own way.

_BASIC_TRACEBACK = """\
Traceback (most recent call last):
  File "/srv/app/auth.py", line 31, in current_user
    pair = base64.b64decode(credentials, validate=True).decode()
binascii.Error: Invalid base64-encoded string
"""


def _basic_user_pass(value: str, encoding: str = "utf-8") -> str | None:
    """Decode a Basic field value: ``"Basic YTpi"`` gives ``"a:b"``; None if it is not one (RFC 7617 §2).

    The value must be the scheme, one or more SP and a token68 holding the
    base64 of user-id, colon and password, without control characters.
    """
    scheme = _SCHEME.fullmatch(value)
    credentials = _TOKEN68.fullmatch(scheme.group(2)) if scheme else None
    if credentials is None:
        return None
    try:
        pair = base64.b64decode(credentials.group(1), validate=True).decode(encoding)
    except (binascii.Error, UnicodeDecodeError):
        return None
    if ":" not in pair or _CONTROL.search(pair):
        return None
    return pair


def _read_basic(
    request: Request, grants: Mapping[str, _Grant], now: float
) -> _Presented:
    """Sort the Authorization field of ``request`` as a Basic API does."""
    value = request.headers.get("Authorization")
    if value is None:
        return _Presented("missing")

    value = value.strip(" \t")
    scheme = _SCHEME.fullmatch(value)
    if scheme is None or scheme.group(1).lower() != "basic":
        return _Presented("other_scheme", value)

    pair = _basic_user_pass(value)
    if pair is None:
        return _Presented("malformed", value)
    return _by_grant(grants.get(pair), value, now)


def _read_api_key(
    request: Request, grants: Mapping[str, _Grant], now: float
) -> _Presented:
    """Sort the X-API-Key field of ``request``; a key past its expiry is ``expired``."""
    value = request.headers.get(_API_KEY_HEADER)
    if value is None:
        return _Presented("missing")

    value = value.strip(" \t")
    if not _API_KEY.fullmatch(value):
        return _Presented("malformed", value)
    return _by_grant(grants.get(value), value, now)


# Why each refusal of a scheme without error codes (Basic, API keys) happened, for the body.
_PLAIN_REASONS: Mapping[_Kind, str] = {
    "missing": "Authentication required",
    "other_scheme": "Authentication required",
    "malformed": "The credentials are malformed",
    "unknown": "The credentials are invalid",
    "expired": "The credentials expired",
}


def _plain_conformant(
    presented: _Presented, route: _Route, params: tuple[tuple[str, str], ...]
) -> _Answer:
    """Answer as RFC 9110 §11 asks a scheme without error codes: 401 and a challenge, or 403."""
    if presented.kind != "valid":
        return _Answer(401, params, {"error": _PLAIN_REASONS[presented.kind]})
    if not _may_call(presented.role, route):
        return _Answer(403, None, {"error": "These credentials may not call this endpoint"})
    return _granted(route, presented.role)


def _conformant_basic(presented: _Presented, route: _Route) -> _Answer:
    """Challenge with ``Basic realm="...", charset="UTF-8"`` (RFC 7617 §2, §2.1)."""
    return _plain_conformant(presented, route, (("charset", "UTF-8"),))


def _conformant_api_key(presented: _Presented, route: _Route) -> _Answer:
    """Challenge with ``APIKey realm="..."``: no scheme is registered for keys, so any will do."""
    return _plain_conformant(presented, route, ())


def _issue_bearer(now: float) -> _Issued:
    """Sign a JWT per role and an expired one, under a fresh HS256 secret."""
    secret = demo_jwt.new_secret()
    tokens = {
        role: demo_jwt.issue(role, scopes, secret, now, _LIFETIME)
        for role, scopes in _ROLE_SCOPES.items()
    }
    expired = demo_jwt.issue(
        _EXPIRED_ROLE, _ROLE_SCOPES[_EXPIRED_ROLE], secret, now, -3600
    )
    grants = {token: _Grant(role) for role, token in tokens.items()}
    grants[expired] = _Grant(_EXPIRED_ROLE, expires_at=now - 3600)
    return _Issued(
        grants,
        {role: Secret(token) for role, token in tokens.items()},
        Secret(expired),
        JwtSettings(Secret(secret), demo_jwt.ALGORITHM),
    )


def _issue_basic(now: float) -> _Issued:
    """Draw a password per role, and the admin's old one, which expired an hour ago.

    The reader's password holds letters outside ASCII, so that the suite
    checks the UTF-8 decoding RFC 7617 §2.1 asks for.
    """
    passwords = {
        "admin": secrets.token_urlsafe(18),
        "reader": "lectüre-" + secrets.token_urlsafe(12),
    }
    expired = secrets.token_urlsafe(18)
    grants = {f"{role}:{pw}": _Grant(role) for role, pw in passwords.items()}
    grants[f"{_EXPIRED_ROLE}:{expired}"] = _Grant(_EXPIRED_ROLE, expires_at=now - 3600)
    return _Issued(
        grants,
        {role: BasicCredential(role, Secret(pw)) for role, pw in passwords.items()},
        BasicCredential(_EXPIRED_ROLE, Secret(expired)),
    )


def _issue_api_keys(now: float) -> _Issued:
    """Draw a key per role and one that expired an hour ago."""
    keys = {role: secrets.token_urlsafe(24) for role in _ROLE_SCOPES}
    expired = secrets.token_urlsafe(24)
    grants = {key: _Grant(role) for role, key in keys.items()}
    grants[expired] = _Grant(_EXPIRED_ROLE, expires_at=now - 3600)
    return _Issued(
        grants, {role: Secret(key) for role, key in keys.items()}, Secret(expired)
    )


_BEARER = _Guard("bearer", "Bearer", _read_bearer, _conformant, _issue_bearer)
_BASIC = _Guard("basic", "Basic", _read_basic, _conformant_basic, _issue_basic)
_API_KEYS = _Guard(
    "api_key",
    "APIKey",
    _read_api_key,
    _conformant_api_key,
    _issue_api_keys,
    ApiKeyPlacement("header", _API_KEY_HEADER),
)


def _no_realm(presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
    """Leave the realm out: ``Basic charset="UTF-8"``."""
    return replace(answer, layout=_Layout(realm=False))


def _latin_1_charset(presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
    """Advertise ``charset="ISO-8859-1"``, the value RFC 7617 §2.1 does not allow."""
    return _with_param(answer, "charset", "ISO-8859-1")


def _latin_1_decoding(
    presented: _Presented, route: _Route, answer: _Answer
) -> _Answer:
    """Decode user-pass as Latin-1, so a non-ASCII password comes out garbled and matches no user."""
    value = presented.value
    if presented.kind == "valid" and value is not None:
        if _basic_user_pass(value, "latin-1") != _basic_user_pass(value):
            return _conformant_basic(_Presented("unknown", value), route)
    return answer


def _crash_on_bad_base64(
    presented: _Presented, route: _Route, answer: _Answer
) -> _Answer:
    """Crash with a 500 where ``b64decode(credentials, validate=True)`` raises."""
    if presented.kind != "malformed" or presented.value is None:
        return answer
    credentials = presented.value.partition(" ")[2].strip(" ")
    try:
        base64.b64decode(credentials, validate=True)
    except binascii.Error:
        return _Answer(500, None, _BASIC_TRACEBACK)
    return answer


def _reader_refused(presented: _Presented, route: _Route, answer: _Answer) -> _Answer:
    """Refuse the reader's valid key with 401, as a stale allow-list that holds the admin's key only does."""
    if presented.kind == "valid" and presented.role == "reader":
        return _conformant_api_key(_Presented("unknown", presented.value), route)
    return answer


_ITEMS = {"items": [{"id": 1, "name": "first"}, {"id": 2, "name": "second"}]}
_ITEM = {"id": 1, "name": "first"}
_STATS = {"users": 2, "requests_today": 1234}


# The routes of every conformant demo, whatever its scheme.
_CONFORMANT_ROUTES = (
    _Route("GET", "/items", "items:read", _ITEMS),
    _Route("POST", "/items", "items:write", {"created": {"id": 3, "name": "third"}}),
    _Route("GET", "/items/1", "items:read", _ITEM),
    _Route("DELETE", "/items/1", "items:write", {"deleted": 1}),
    _Route("GET", "/admin/stats", "admin", _STATS),
)
# The control rows every broken demo starts with: no mistake planted.
_CONTROL_ROUTES = (
    _Route("GET", "/items", "items:read", _ITEMS),
    _Route("GET", "/admin/stats", "admin", _STATS),
)


def _spec_demo() -> _ApiSpec:
    """The conformant Bearer API."""
    return _ApiSpec("demo", _BEARER, _CONFORMANT_ROUTES)


def _spec_demo_basic() -> _ApiSpec:
    """The conformant Basic API."""
    return _ApiSpec("demo-basic", _BASIC, _CONFORMANT_ROUTES)


def _spec_demo_apikey() -> _ApiSpec:
    """The conformant API-key API."""
    return _ApiSpec("demo-apikey", _API_KEYS, _CONFORMANT_ROUTES)


def _spec_demo_basic_broken() -> _ApiSpec:
    """The Basic API with one planted mistake per endpoint."""
    return _ApiSpec(
        "demo-basic-broken",
        _BASIC,
        (
            *_CONTROL_ROUTES,
            *(
                _Route("GET", path, "items:read", _ITEM, fault)
                for path, fault in (
                    ("/no-realm", _no_realm),
                    ("/latin-1-charset", _latin_1_charset),
                    ("/no-challenge", _no_challenge),
                    ("/unquoted-realm", _unquoted_realm),
                    ("/latin-1-decoding", _latin_1_decoding),
                    ("/crash-on-bad-base64", _crash_on_bad_base64),
                    ("/empty-credentials-accepted", _empty_credentials_accepted),
                )
            ),
        ),
    )


def _spec_demo_apikey_broken() -> _ApiSpec:
    """The API-key API with one planted mistake per endpoint."""
    return _ApiSpec(
        "demo-apikey-broken",
        _API_KEYS,
        (
            *_CONTROL_ROUTES,
            _Route("GET", "/no-challenge", "items:read", _ITEM, _no_challenge),
            _Route(
                "GET",
                "/forbidden-when-missing",
                "items:read",
                _ITEM,
                _forbidden_when_missing,
            ),
            _Route("GET", "/reader-refused", "items:read", _ITEM, _reader_refused),
            _Route("GET", "/admin/401-for-reader", "admin", _STATS, _401_for_role),
        ),
    )


def _spec_demo_broken() -> _ApiSpec:
    """The Bearer API with one planted mistake per endpoint."""
    return _ApiSpec(
        "demo-broken",
        _BEARER,
        (
            _Route("GET", "/items", "items:read", _ITEMS),
            _Route("GET", "/admin/stats", "admin", _STATS),
            _Route("GET", "/no-challenge", "items:read", _ITEM, _no_challenge),
            _Route(
                "GET",
                "/forbidden-when-missing",
                "items:read",
                _ITEM,
                _forbidden_when_missing,
            ),
            _Route("GET", "/expired-accepted", "items:read", _ITEM, _expired_accepted),
            _Route("GET", "/login-redirect", "items:read", _ITEM, _login_redirect),
            _Route(
                "GET", "/crash-on-malformed", "items:read", _ITEM, _crash_on_malformed
            ),
            _Route("GET", "/error-on-missing", "items:read", _ITEM, _error_on_missing),
            *(
                _Route("GET", path, "items:read", _ITEM, fault)
                for path, fault in (
                    ("/unquoted-realm", _unquoted_realm),
                    ("/empty-list-member", _empty_list_member),
                    ("/spaces-around-equals", _spaces_around_equals),
                    ("/needless-escape", _needless_escape),
                    ("/repeated-error", _repeated_error),
                    ("/missing-commas", _missing_commas),
                    ("/basic-challenge", _basic_challenge),
                    ("/bare-challenge", _bare_challenge),
                    ("/invalid-request-on-401", _invalid_request_on_401),
                    ("/expired-without-error", _expired_without_error),
                    ("/expired-token-code", _expired_token_code),
                    ("/non-ascii-description", _non_ascii_description),
                    ("/expired-gets-400", _expired_gets_400),
                )
            ),
            *(
                _Route("GET", path, "admin", _STATS, fault)
                for path, fault in (
                    ("/admin/scope-not-checked", _scope_not_checked),
                    ("/admin/403-without-error", _403_without_error),
                    ("/admin/401-for-reader", _401_for_role),
                    ("/admin/hidden", _hidden_from_role),
                )
            ),
            *(
                _Route("GET", path, "items:read", _ITEM, fault)
                for path, fault in (
                    ("/leaky-refusal", _leaky_refusal),
                    ("/empty-refusal-body", _empty_refusal_body),
                    ("/proxy-auth-required", _proxy_auth_required),
                    ("/case-sensitive-scheme", _case_sensitive_scheme),
                    ("/empty-token-accepted", _empty_credentials_accepted),
                    ("/jwt/alg-none-accepted", _JwtMistake("alg-none")),
                    ("/jwt/signature-not-verified", _JwtMistake("unverified")),
                    ("/jwt/exp-not-checked", _JwtMistake("exp-unchecked")),
                    ("/jwt/iss-aud-not-checked", _JwtMistake("iss-aud-unchecked")),
                    ("/jwt/alg-from-header", _JwtMistake("alg-from-header")),
                )
            ),
        ),
        pages={"/login": _LOGIN_PAGE},
    )


_SPECS: Mapping[str, Callable[[], _ApiSpec]] = {
    "demo": _spec_demo,
    "demo-broken": _spec_demo_broken,
    "demo-basic": _spec_demo_basic,
    "demo-basic-broken": _spec_demo_basic_broken,
    "demo-apikey": _spec_demo_apikey,
    "demo-apikey-broken": _spec_demo_apikey_broken,
}


class _DemoApp:
    """The WSGI application serving one ``_ApiSpec`` with one set of tokens."""

    def __init__(self, spec: _ApiSpec, grants: Mapping[str, _Grant]) -> None:
        self.spec = spec
        self.grants = grants

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Answer one request."""
        response = self.respond(Request(environ))
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        """Route ``request``, judge its credentials and render the answer."""
        # http.server refuses lines over 64 KiB itself; this is our own, lower limit.
        if any(len(value) > _MAX_FIELD_BYTES for _, value in request.headers.items()):
            return self.render(
                _Answer(431, body={"error": "A request header field is too large"})
            )

        method = "GET" if request.method == "HEAD" else request.method
        page = self.spec.pages.get(request.path)
        if page is not None and method == "GET":
            return self.render(
                _Answer(200, body=page, content_type="text/html; charset=utf-8")
            )

        routes = [route for route in self.spec.routes if route.path == request.path]
        if not routes:
            return self.render(_Answer(404, body={"error": "Not found"}))

        route = next((route for route in routes if route.method == method), None)
        if route is None:
            methods = {r.method for r in routes}
            if "GET" in methods:
                methods.add("HEAD")
            allow = ", ".join(sorted(methods))
            return self.render(
                _Answer(
                    405,
                    body={"error": "Method not allowed"},
                    headers=(("Allow", allow),),
                )
            )

        guard = self.spec.guard
        presented = guard.read(request, self.grants, time.time())
        answer = guard.conformant(presented, route)
        if route.fault is not None:
            answer = route.fault(presented, route, answer)
        return self.render(answer)

    def render(self, answer: _Answer) -> Response:
        """Turn an answer into a werkzeug response."""
        if isinstance(answer.body, str):
            response = Response(
                answer.body, answer.status, content_type=answer.content_type
            )
        else:
            response = Response(
                _json(answer.body), answer.status, mimetype="application/json"
            )

        for name, value in answer.headers:
            response.headers[name] = value
        if answer.challenge is not None:
            response.headers[answer.layout.field] = _format_challenge(
                self.spec.guard.challenge_scheme,
                self.spec.realm,
                answer.challenge,
                answer.layout,
            )
        return response


def _format_challenge(
    scheme: str, realm: str, params: Iterable[tuple[str, str]], layout: _Layout
) -> str:
    """Write a challenge: ``Bearer realm="demo", error="invalid_token"`` in the default layout."""
    parts = []
    if layout.realm:
        value = _quote(realm, layout) if layout.quote_realm else realm
        parts.append(f"realm{layout.equals}{value}")
        if layout.empty_member:
            parts.append("")
    parts += [f"{name}{layout.equals}{_quote(value, layout)}" for name, value in params]
    return f"{layout.scheme or scheme} {layout.separator.join(parts)}".rstrip()


def _quote(value: str, layout: _Layout) -> str:
    """Write ``value`` as a quoted-string (RFC 9110 §5.6.4)."""
    escaped = "".join(f"\\{c}" if c in layout.escaped else c for c in value)
    return f'"{escaped}"'


def _json(body: Mapping[str, Any]) -> str:
    """Serialise a response body."""
    return json.dumps(body, sort_keys=True) + "\n"


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without per-request log lines, and with a lingering close."""

    def log(self, type: str, message: str, *args: Any) -> None:
        """Send werkzeug's request and error lines to our logger at DEBUG."""
        _LOG.debug(message, *args)

    def finish(self) -> None:
        """Drain what the client still sends before the socket closes.

        When http.server refuses a header line over 64 KiB it answers 431
        without reading the rest of the request; closing a socket with unread
        input makes the kernel send a reset that can overtake the 431, hence
        the "lingering close" of RFC 9112 §9.6.
        """
        super().finish()
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(0.2)
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline and self.connection.recv(65536):
                pass
        except OSError:
            pass


@dataclass
class RunningDemo:
    """An embedded API serving in a daemon thread, and the target that describes it."""

    target: Target
    _server: BaseWSGIServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        """Stop serving, free the port and wait for the server thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_demo(name: str) -> RunningDemo:
    """Start the embedded API ``name`` on a free port of 127.0.0.1."""
    make_spec = _SPECS.get(name)
    if make_spec is None:
        valid = ", ".join(repr(n) for n in EMBEDDED_NAMES)
        raise TargetStartError(
            f"No embedded target is called {name!r}; the embedded targets are {valid}."
        )
    spec = make_spec()

    issued = spec.guard.issue(time.time())
    mistakes = [r.fault for r in spec.routes if isinstance(r.fault, _JwtMistake)]
    settings = issued.jwt
    if settings is not None and settings.key is not None:
        secret, public_pem = settings.key.reveal(), b""
        # Only an API with a verifier that trusts RS256 holds a public key.
        if any(mistake.mistake == "alg-from-header" for mistake in mistakes):
            public_pem = demo_jwt.new_public_pem()
            public_key = public_pem.decode("ascii")
            issued = replace(issued, jwt=replace(settings, public_key=public_key))
        for mistake in mistakes:
            mistake.secret, mistake.public_pem = secret, public_pem

    try:
        server = make_server(
            _HOST,
            0,
            _DemoApp(spec, issued.grants),
            threaded=True,
            request_handler=_QuietHandler,
        )
    except (OSError, SystemExit) as exc:
        # werkzeug turns a failed bind into SystemExit after printing the reason.
        raise TargetStartError(
            f"Could not start the embedded target {name!r} on {_HOST}: {exc}"
        ) from exc

    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"conformance-{name}",
        daemon=True,
    )
    thread.start()

    target = Target(
        name=name,
        scheme=spec.guard.scheme,
        base_url=f"http://{_HOST}:{server.port}",
        endpoints=tuple(route.endpoint for route in spec.routes),
        credentials=issued.credentials,
        api_key=spec.guard.api_key,
        expired=issued.expired,
        jwt=issued.jwt,
        embedded=name,
        leak_marker=LEAK_MARKER,
    )
    return RunningDemo(target, server, thread)
