"""Real servers for each credential kind, started on free 127.0.0.1 ports (issue 4).

- Flask-HTTPAuth: ``HTTPBasicAuth`` (a non-ASCII user name and a UTF-8
  password among the users) and ``HTTPTokenAuth`` (Bearer), each with a
  route every user may call and one for the ``admin`` role, and a form
  login (``POST /login``) that answers with a fresh token in ``X-Token``.
- FastAPI with OAuth2 scopes and PyJWT, as in FastAPI's "OAuth2 scopes"
  tutorial, plus the tiny client-credentials token endpoint that issues its
  JWTs (``POST /oauth/token``, RFC 6749 §4.4).
- Django REST framework, in a child process (Django's settings are global to
  a process): see ``drf_server.py``.

httpbin, for Digest, is the session fixture of ``conftest.py``.
"""

# No ``from __future__ import annotations``: FastAPI reads the route
# signatures at run time (see realservers.py).

import base64
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, unquote_plus

import jwt
from fastapi import Depends, FastAPI, HTTPException, Request, Security, status
from fastapi.security import OAuth2PasswordBearer, SecurityScopes
from flask import Flask, jsonify, request
from flask_httpauth import HTTPBasicAuth, HTTPTokenAuth
from werkzeug.serving import WSGIRequestHandler, make_server

LOOPBACK = "127.0.0.1"
START_TIMEOUT = 30.0

# --- Flask-HTTPAuth -----------------------------------------------------------

FLASK_PASSWORDS = {"alice": "wonderland-42", "jürgen": "pässwörd-ü-€"}
FLASK_TOKENS = {"tok-alice-5c0d1e2f3a4b5c6d": "alice", "tok-bob-7e8f9a0b1c2d3e4f": "bob"}
FLASK_ADMINS = frozenset({"alice"})


def build_flask_app(logins: dict[str, str] | None = None) -> Flask:
    """Flask-HTTPAuth's Basic and Bearer token auth, written as its documentation shows.

    ``POST /login`` takes a form with ``username`` and ``password`` (the
    Basic users' passwords) and answers ``X-Token: Bearer <token>``, as some
    APIs hand out tokens in a header rather than the body. Each login
    issues a fresh token, recorded in ``logins`` (token -> user), which the
    Bearer routes accept alongside the fixed ``FLASK_TOKENS``.
    """
    app = Flask("credential-kinds")
    basic = HTTPBasicAuth()
    token = HTTPTokenAuth(scheme="Bearer")
    issued = {} if logins is None else logins

    @basic.verify_password
    def verify_password(username: str, password: str) -> str | None:
        expected = FLASK_PASSWORDS.get(username)
        if expected is not None and secrets.compare_digest(password.encode(), expected.encode()):
            return username
        return None

    @token.verify_token
    def verify_token(presented: str) -> str | None:
        return FLASK_TOKENS.get(presented) or issued.get(presented)

    @basic.get_user_roles
    @token.get_user_roles
    def roles(user: str) -> list[str]:
        return ["admin"] if user in FLASK_ADMINS else []

    @app.get("/basic/me")
    @basic.login_required
    def basic_me() -> Any:
        return jsonify(user=basic.current_user(), data="basic profile")

    @app.get("/basic/admin")
    @basic.login_required(role="admin")
    def basic_admin() -> Any:
        return jsonify(user=basic.current_user(), data="basic admin console")

    @app.get("/token/me")
    @token.login_required
    def token_me() -> Any:
        return jsonify(user=token.current_user(), data="token profile")

    @app.get("/token/admin")
    @token.login_required(role="admin")
    def token_admin() -> Any:
        return jsonify(user=token.current_user(), data="token admin console")

    @app.post("/login")
    def login() -> Any:
        user = verify_password(request.form.get("username", ""), request.form.get("password", ""))
        if user is None:
            return jsonify(error="wrong user name or password"), 401, {"WWW-Authenticate": 'Form realm="login"'}
        fresh = secrets.token_urlsafe(24)
        issued[fresh] = user
        return jsonify(user=user), 200, {"X-Token": f"Bearer {fresh}"}

    return app


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass


@contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    """Serve a WSGI app with werkzeug's threaded server on a free loopback port."""
    server = make_server(LOOPBACK, 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="credential-kinds", daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=START_TIMEOUT)


# --- FastAPI, OAuth2 scopes and JWT -------------------------------------------

JWT_SECRET = "fastapi-jwt-secret-for-the-credential-kind-tests-0123456789"
JWT_ISSUER = "https://issuer.credential-kinds.test/"
JWT_AUDIENCE = "https://api.credential-kinds.test/"
# client id -> (secret, scopes it may ask for, token lifetime in seconds)
OAUTH_CLIENTS = {
    "ops": ("ops-secret-6b1f0c2d9e8a7f35", "items:read items:write", 300),
    "viewer": ("viewer-secret-2d4e6f8a0b1c3e5f", "items:read", 300),
    "short": ("short-secret-9a8b7c6d5e4f3a2b", "items:read", 31),
    # Characters that RFC 6749 §2.3.1 has form-encoded before Basic encoding.
    "odd:client": ("sécret:with/+&=%-chars", "items:read", 300),
    "jwt-only": ("jwt-only-secret-4c3b2a19f8e7d6c5", "items:read", 45),
}
# Clients whose token answers leave out expires_in (it is only RECOMMENDED,
# RFC 6749 §5.1): when the token expires is then only in its exp claim.
SILENT_EXPIRY = frozenset({"jwt-only"})


class TokenLog:
    """What the token endpoint was asked and issued, per client, for the grant tests.

    ``client_auth`` and ``audience`` hold how the client authenticated
    (``basic`` or ``body``) and the audience it asked for, on its last grant;
    ``answers`` every token answer, in order.
    """

    def __init__(self) -> None:
        self.issued: dict[str, int] = {}
        self.tokens: list[str] = []
        self.client_auth: dict[str, str] = {}
        self.audience: dict[str, str | None] = {}
        self.answers: list[dict[str, Any]] = []


def build_fastapi_jwt_app(log: TokenLog | None = None) -> FastAPI:
    """FastAPI's OAuth2 scopes tutorial with PyJWT, and a client-credentials token endpoint.

    Tokens are HS256 JWTs checked for signature, exp, nbf, iss and aud. A
    token without the scope a route needs gets the tutorial's 401 with
    ``WWW-Authenticate: Bearer scope="..."``. The token endpoint takes the
    client's id and secret by HTTP Basic or in the form (RFC 6749 §2.3.1),
    never both at once, and an ``audience`` that must be this API's.
    """
    app = FastAPI()
    log = log or TokenLog()
    oauth2 = OAuth2PasswordBearer(
        tokenUrl="oauth/token",
        scopes={"items:read": "Read items.", "items:write": "Change items."},
    )

    @app.post("/oauth/token")
    async def issue_token(request: Request) -> Any:
        # Parsed by hand: FastAPI's Form() would need python-multipart.
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        grant_type, scope, audience = form.get("grant_type", ""), form.get("scope", ""), form.get("audience")
        authorization = request.headers.get("Authorization")
        in_body = "client_id" in form or "client_secret" in form
        if authorization is not None and in_body:
            # RFC 6749 §2.3: a client MUST NOT use more than one authentication method.
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="invalid_request")
        if in_body:
            client = _known_client(form.get("client_id", ""), form.get("client_secret", ""))
        else:
            client = _basic_client(authorization or "")
        if client is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="invalid_client", headers={"WWW-Authenticate": 'Basic realm="token"'})
        if grant_type != "client_credentials":
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="unsupported_grant_type")
        if audience is not None and audience != JWT_AUDIENCE:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="invalid_target")
        log.client_auth[client] = "body" if in_body else "basic"
        log.audience[client] = audience
        _, allowed, lifetime = OAUTH_CLIENTS[client]
        granted = [s for s in scope.split() if s in allowed.split()] or allowed.split()
        now = int(time.time())
        claims = {"sub": client, "scope": " ".join(granted), "iss": JWT_ISSUER, "aud": JWT_AUDIENCE, "iat": now, "exp": now + lifetime}
        # A jti tells apart two tokens issued to one client within a second.
        claims["jti"] = secrets.token_hex(8)
        log.issued[client] = log.issued.get(client, 0) + 1
        token = jwt.encode(claims, JWT_SECRET, algorithm="HS256")
        log.tokens.append(token)
        answer = {"access_token": token, "token_type": "bearer", "expires_in": lifetime, "scope": claims["scope"]}
        if client in SILENT_EXPIRY:
            del answer["expires_in"]
        log.answers.append(answer)
        return answer

    def current_client(security_scopes: SecurityScopes, token: Annotated[str, Depends(oauth2)]) -> str:
        authenticate_value = f'Bearer scope="{security_scopes.scope_str}"' if security_scopes.scopes else "Bearer"
        refused = HTTPException(status.HTTP_401_UNAUTHORIZED, detail="Could not validate credentials", headers={"WWW-Authenticate": authenticate_value})
        try:
            claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"], audience=JWT_AUDIENCE, issuer=JWT_ISSUER)
        except jwt.InvalidTokenError:
            raise refused from None
        for needed in security_scopes.scopes:
            if needed not in str(claims.get("scope", "")).split():
                raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="Not enough permissions", headers={"WWW-Authenticate": authenticate_value})
        return str(claims["sub"])

    @app.get("/items")
    def read_items(client: Annotated[str, Security(current_client, scopes=["items:read"])]) -> Any:
        return {"client": client, "items": ["first", "second"]}

    @app.delete("/items/1")
    def delete_item(client: Annotated[str, Security(current_client, scopes=["items:write"])]) -> Any:
        return {"client": client, "deleted": 1}

    @app.get("/whoami")
    def whoami(client: Annotated[str, Security(current_client, scopes=[])], token: Annotated[str, Depends(oauth2)]) -> Any:
        # Echoes the token, as some APIs do: the reports must mask it.
        return {"client": client, "token": token}

    return app


def _basic_client(authorization: str) -> str | None:
    """The client authenticated by HTTP Basic (RFC 6749 §2.3.1), or None.

    Id and secret are form-encoded before the Basic encoding, so they are
    decoded after it.
    """
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return None
    return _known_client(unquote_plus(client_id), unquote_plus(secret))


def _known_client(client_id: str, secret: str) -> str | None:
    known = OAUTH_CLIENTS.get(client_id)
    return client_id if known and secrets.compare_digest(secret.encode(), known[0].encode()) else None


@contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a socket bound to a free loopback port.

    h11 keeps 16 KiB of an unfinished request head by default; a larger
    limit lets the app itself answer the 64 KiB probes.
    """
    import socket

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((LOOPBACK, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", log_config=None, access_log=False, h11_max_incomplete_event_size=256 * 1024)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn-credential-kinds", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT)
        sock.close()


# --- Django REST framework, in a child process ---------------------------------

DRF_USERS = {"alice": "alice-drf-pw-31415", "bob": "bob-drf-pw-27182"}
DRF_STAFF = frozenset({"alice"})


def drf_roles(path: str, token: str) -> str:
    """targets.yaml lines for roles staff (alice) and user (bob), each logging in at ``path``.

    ``token`` says where the answer carries the credential: ``{json: token}``
    for DRF's obtain_auth_token, ``{cookie: sessionid}`` for a session login.
    """
    return "\n".join(
        f"      {role}: {{login: {{method: POST, path: {path}, "
        f"json: {{username: {user}, password: {DRF_USERS[user]}}}, token: {token}}}}}"
        for role, user in (("staff", "alice"), ("user", "bob"))
    )


@contextmanager
def serve_drf() -> Iterator[str]:
    """Start ``drf_server.py`` in a child process; yield its base URL, then stop it."""
    ready = Path(tempfile.mkdtemp()) / "port"
    script = Path(__file__).with_name("drf_server.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    process = subprocess.Popen([sys.executable, str(script), str(ready)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not (ready.exists() and ready.read_text().strip()):
            if process.poll() is not None:
                error = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise RuntimeError(f"drf_server.py stopped before serving: {error[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"drf_server.py did not start within {START_TIMEOUT:g} s")
            time.sleep(0.05)
        yield f"http://{LOOPBACK}:{ready.read_text().strip()}"
    finally:
        process.terminate()
        process.wait(timeout=START_TIMEOUT)
        if process.stderr:
            process.stderr.close()
