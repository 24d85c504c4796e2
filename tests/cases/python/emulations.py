"""Emulations of servers no registry here ships: Spring Security, Echo, PostgREST, oauth2-proxy, Laravel.

Each reproduces the answers the public issue describes (BUG-04, 10, 11, 16,
17 in shared/cases/README.md), status, headers and body shape, and nothing
more. One werkzeug app serves them all under a path prefix each; tokens are
HS256 JWTs signed by ``/mint?sub=..&role=..&s=N`` (stdlib only, so this
module runs in the project's own virtualenv).
"""

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import quote

from launch import serve_wsgi
from werkzeug.wrappers import Request, Response

SECRET = b"case-secret-for-the-emulations-0123456789"
SESSION_COOKIE = "_oauth2_proxy"
SESSION_VALUE = "oauth2-proxy-session-6f5e4d3c2b1a0f9e8d7c"
SANCTUM_TOKEN = "1|laravelsanctumtoken0123456789abcdefghijklmn"
IDP = "http://127.0.0.1:9"
# Every emulated resource server checks issuer, audience and lifetime, as it should.
ISSUER, AUDIENCE = "https://case-issuer.example/", "case-api"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint(claims):
    """Sign ``claims`` as an HS256 JWT."""
    signing_input = (
        _b64(b'{"alg":"HS256","typ":"JWT"}') + "." + _b64(json.dumps(claims).encode())
    )
    signature = hmac.new(SECRET, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(signature)


class TokenError(Exception):
    """The token is malformed, badly signed or expired (``expired`` says which)."""

    def __init__(self, message, expired=False):
        super().__init__(message)
        self.expired = expired


def verify(token):
    """The claims of a well-signed HS256 JWT, or TokenError."""
    try:
        header, payload, signature = token.split(".")
        expected = hmac.new(
            SECRET, f"{header}.{payload}".encode(), hashlib.sha256
        ).digest()
        if not hmac.compare_digest(_b64(expected), signature):
            raise TokenError("signature mismatch")
        if json.loads(_unb64(header)).get("alg") != "HS256":
            raise TokenError("unexpected algorithm")
        claims = json.loads(_unb64(payload))
    except (ValueError, TypeError, AttributeError) as exc:
        raise TokenError(str(exc)) from None
    now = time.time()
    if claims.get("iss") != ISSUER or claims.get("aud") != AUDIENCE or claims.get("nbf", 0) > now:
        raise TokenError("foreign issuer or audience, or not yet valid")
    if claims.get("exp", 0) <= now:
        raise TokenError("JWT expired", expired=True)
    return claims


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _same(given, expected):
    """Compare in constant time; compare_digest refuses str with non-ASCII characters."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


def _bearer(request, case_sensitive=False):
    """The token of an ``Authorization: Bearer <token>`` line, or None."""
    value = request.headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    matches = scheme == "Bearer" if case_sensitive else scheme.lower() == "bearer"
    return token if matches and token else None


def _json(status, document, headers=None):
    return Response(
        json.dumps(document),
        status=status,
        headers=headers,
        content_type="application/json",
    )


# --- BUG-04: Spring Security without an authentication entry point ----------------
# A custom JWT filter authenticates valid tokens; everything else reaches
# Http403ForbiddenEntryPoint ("Pre-authenticated entry point called.
# Rejecting access"), and AccessDeniedHandlerImpl answers a missing role.


def spring(request, rest):
    token = _bearer(request)
    try:
        claims = verify(token) if token else None
    except TokenError:
        claims = None
    if claims is None or (rest == "/api/admin" and claims.get("role") != "ADMIN"):
        body = {
            "timestamp": "2024-07-05T10:00:00.000+00:00",
            "status": 403,
            "error": "Forbidden",
            "path": rest,
        }
        return _json(403, body)
    return _json(200, {"sub": claims["sub"]})


# --- BUG-10: Echo's JWT middleware ------------------------------------------------
# Absent or unparseable credentials are ErrJWTMissing (400); a token that
# parses but fails validation is ErrJWTInvalid (401); no challenge either way.


def echo(request, rest):
    token = _bearer(request)
    if token is None or token.count(".") != 2:
        return _json(400, {"message": "missing or malformed jwt"})
    try:
        claims = verify(token)
    except TokenError:
        return _json(401, {"message": "invalid or expired jwt"})
    return _json(200, {"sub": claims["sub"]})


# --- BUG-11: PostgREST before the fixes of #512 and #3601 ---------------------------
# No token: the anonymous role is disabled, 401 with a bare Bearer challenge.
# An expired JWT or one naming a role the database lacks: 400, no challenge.

POSTGREST_ROLES = {"web_user"}


def postgrest(request, rest):
    token = _bearer(request)
    if token is None:
        return _json(
            401,
            {"code": "PGRST302", "message": "Anonymous access is disabled"},
            {"WWW-Authenticate": "Bearer"},
        )
    try:
        claims = verify(token)
    except TokenError as exc:
        if exc.expired:
            return _json(400, {"code": "PGRST301", "message": "JWT expired"})
        error = 'Bearer error="invalid_token", error_description="JWSError JWSInvalidSignature"'
        return _json(
            401,
            {"code": "PGRST301", "message": "JWSError JWSInvalidSignature"},
            {"WWW-Authenticate": error},
        )
    if claims.get("role") not in POSTGREST_ROLES:
        return _json(
            400,
            {"code": "22023", "message": f'role "{claims.get("role")}" does not exist'},
        )
    return _json(200, [{"id": 1, "name": "first item"}])


# --- BUG-16: oauth2-proxy -----------------------------------------------------------
# Without a valid session cookie every request is redirected to the IdP,
# whatever it accepts. The fixed mode answers 401 with a challenge to
# requests that do not accept HTML (the documented AJAX behaviour).


def oauth2_proxy(request, rest, fixed=False):
    if _same(request.cookies.get(SESSION_COOKIE, ""), SESSION_VALUE):
        return _json(200, {"thing": 1})
    if fixed and "text/html" not in request.headers.get("Accept", ""):
        return _json(
            401,
            {"error": "unauthorized"},
            {"WWW-Authenticate": 'Bearer realm="oauth2-proxy"'},
        )
    location = f"{IDP}/oauth2/start?rd={quote(rest, safe='')}"
    return Response(
        f'<a href="{location}">Found</a>.\n',
        status=302,
        headers={"Location": location},
        content_type="text/html",
    )


# --- BUG-17: Laravel auth:sanctum -----------------------------------------------------
# Unauthenticated: redirect to the route named "login"; without such a route,
# RouteNotFoundException (500); with a middleware forcing JSON answers, 401
# {"message": "Unauthenticated."} and no challenge.


def laravel(request, rest, mode):
    token = _bearer(request)
    if token is not None and _same(token, SANCTUM_TOKEN):
        return _json(200, {"id": 1, "name": "Bob"})
    if mode == "json":
        return _json(401, {"message": "Unauthenticated."})
    if mode == "nologin":
        page = "<!DOCTYPE html><html><title>Route [login] not defined.</title><body>Symfony\\Component\\Routing\\Exception\\RouteNotFoundException</body></html>"
        return Response(page, status=500, content_type="text/html")
    return Response(
        "Redirecting to /login",
        status=302,
        headers={"Location": request.host_url + "login"},
        content_type="text/html",
    )


ROUTES = {
    "/spring": spring,
    "/echo": echo,
    "/postgrest": postgrest,
    "/oauth2-proxy": oauth2_proxy,
    "/oauth2-proxy-fixed": lambda request, rest: oauth2_proxy(
        request, rest, fixed=True
    ),
    "/laravel": lambda request, rest: laravel(request, rest, "redirect"),
    "/laravel-nologin": lambda request, rest: laravel(request, rest, "nologin"),
    "/laravel-json": lambda request, rest: laravel(request, rest, "json"),
}


@Request.application
def app(request):
    if request.path == "/mint":
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": request.args.get("sub", "bob"),
            "exp": int(time.time()) + int(request.args.get("s", "600")),
        }
        if "role" in request.args:
            claims["role"] = request.args["role"]
        return _json(200, {"token": mint(claims)})
    prefix, _, rest = request.path[1:].partition("/")
    handler = ROUTES.get("/" + prefix)
    if handler is None:
        return _json(404, {"error": "not found"})
    return handler(request, "/" + rest)


def start():
    return {"emulations": serve_wsgi(app)}
