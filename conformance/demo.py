"""The embedded reference APIs that `--target=demo` and `--target=demo-broken` start in-process.

Both are Bearer-token APIs (RFC 6750) served by werkzeug on a free port of
127.0.0.1. Every start mints fresh random tokens for the roles `admin` and
`reader` and an already expired one, so no credential outlives the run.

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
its own row. Endpoints need `items:read` (both roles) unless said otherwise;
every case not named in the table is answered as `demo` answers it.

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
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from .errors import TargetStartError
from .model import Endpoint, Secret, Target

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from werkzeug.serving import BaseWSGIServer

EMBEDDED_NAMES = ("demo", "demo-broken")
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

# RFC 9110 §11.1 (auth-scheme = token) and §11.2/§11.4 (1*SP then token68).
_SCHEME = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+)(.*)", re.DOTALL)
_BEARER_CREDENTIALS = re.compile(r" +([A-Za-z0-9._~+/-]+=*)")

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
class _Answer:
    """A response before rendering; ``challenge`` None means no WWW-Authenticate.

    ``challenge`` holds the Bearer auth-params after ``realm``, which the
    API adds: ``()`` renders as ``Bearer realm="demo"``.
    """

    status: int
    challenge: tuple[tuple[str, str], ...] | None = None
    body: Mapping[str, Any] | str = field(default_factory=dict)
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


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
class _ApiSpec:
    """One embedded API: its realm, protected routes and unprotected HTML pages."""

    realm: str
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

    credentials = _BEARER_CREDENTIALS.fullmatch(scheme.group(2))
    if credentials is None:
        return _Presented("malformed", value)

    grant = grants.get(credentials.group(1))
    if grant is None:
        return _Presented("unknown", value)
    if grant.expires_at is not None and grant.expires_at <= now:
        return _Presented("expired", value, grant.role)
    return _Presented("valid", value, grant.role)


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

    if presented.role is None or route.scope not in _ROLE_SCOPES[presented.role]:
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


_ITEMS = {"items": [{"id": 1, "name": "first"}, {"id": 2, "name": "second"}]}
_ITEM = {"id": 1, "name": "first"}
_STATS = {"users": 2, "requests_today": 1234}


def _spec_demo() -> _ApiSpec:
    """The conformant API."""
    return _ApiSpec(
        realm="demo",
        routes=(
            _Route("GET", "/items", "items:read", _ITEMS),
            _Route(
                "POST", "/items", "items:write", {"created": {"id": 3, "name": "third"}}
            ),
            _Route("GET", "/items/1", "items:read", _ITEM),
            _Route("DELETE", "/items/1", "items:write", {"deleted": 1}),
            _Route("GET", "/admin/stats", "admin", _STATS),
        ),
    )


def _spec_demo_broken() -> _ApiSpec:
    """The API with one planted mistake per endpoint."""
    return _ApiSpec(
        realm="demo-broken",
        routes=(
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
        ),
        pages={"/login": _LOGIN_PAGE},
    )


_SPECS: Mapping[str, Callable[[], _ApiSpec]] = {
    "demo": _spec_demo,
    "demo-broken": _spec_demo_broken,
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

        presented = _classify(
            request.headers.get("Authorization"), self.grants, time.time()
        )
        answer = _conformant(presented, route)
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
            params = (("realm", self.spec.realm), *answer.challenge)
            response.headers["WWW-Authenticate"] = "Bearer " + ", ".join(
                f'{k}="{v}"' for k, v in params
            )
        return response


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

    tokens = {role: secrets.token_urlsafe(32) for role in _ROLE_SCOPES}
    expired = secrets.token_urlsafe(32)
    grants = {token: _Grant(role) for role, token in tokens.items()}
    grants[expired] = _Grant(_EXPIRED_ROLE, expires_at=time.time() - 3600)

    try:
        server = make_server(
            _HOST,
            0,
            _DemoApp(spec, grants),
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
        scheme="bearer",
        base_url=f"http://{_HOST}:{server.port}",
        endpoints=tuple(route.endpoint for route in spec.routes),
        credentials={role: Secret(token) for role, token in tokens.items()},
        expired=Secret(expired),
        embedded=name,
        leak_marker=LEAK_MARKER,
    )
    return RunningDemo(target, server, thread)
