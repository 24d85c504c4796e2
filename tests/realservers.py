"""Real third-party HTTP servers, started on free 127.0.0.1 ports for integration tests.

Nothing here imitates a server: httpbin is the PyPI ``httpbin`` Flask app as
published, and the FastAPI app below guards its routes with the framework's
stock security classes, written the way the FastAPI tutorials write them.
Each helper is a context manager that yields the base URL and, on exit,
stops the server and closes its listening socket.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the route
# signatures at runtime, and a string annotation such as
# ``Annotated[str, Depends(dependency)]`` cannot see the closure variable
# ``dependency`` of _add_routes, so the parameter would become a query field.

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
)
from werkzeug.serving import WSGIRequestHandler, make_server

LOOPBACK = "127.0.0.1"
START_TIMEOUT = 10.0

# The FastAPI app's users. "alice" is an admin, "bob" is not; each holds a
# Basic password, a Bearer token (used by both HTTPBearer and
# OAuth2PasswordBearer routes) and an API key.
FASTAPI_REALM = "fastapi-conformance"
FASTAPI_PASSWORDS = {"alice": "wonderland-42", "bob": "builder-7"}
FASTAPI_TOKENS = {
    "alice": "tok-alice-3f9a0c1e7b2d4c65",
    "bob": "tok-bob-8e21d7a0c4f95b13",
}
FASTAPI_API_KEYS = {
    "alice": "key-alice-0d4c2b9e71a8f356",
    "bob": "key-bob-5b7e13f0a9c2d864",
}
FASTAPI_ADMINS = frozenset({"alice"})


# --- httpbin over werkzeug ----------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's request handler without its access log on stderr."""

    def log(self, type: str, message: str, *args: Any) -> None:
        pass


@contextmanager
def serve_httpbin() -> Iterator[str]:
    """Serve the published httpbin app with werkzeug on a free loopback port."""
    from httpbin import app  # imported late: it logs a warning when flasgger is absent

    server = make_server(LOOPBACK, 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="httpbin", daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=START_TIMEOUT)


# --- FastAPI over uvicorn -----------------------------------------------------


def build_fastapi_app() -> FastAPI:
    """A FastAPI app guarded by HTTPBasic, HTTPBearer, the three API-key classes and OAuth2PasswordBearer.

    Routes ``/<scheme>/me`` accept every user; ``/<scheme>/admin`` answers
    403 to a known user who is not an admin. ``/basic-docs/me`` is HTTPBasic
    as the FastAPI tutorial configures it (no realm, and a bare ``Basic``
    challenge on a wrong password). The same API keys work in the
    ``X-API-Key`` header (``/apikey``), the ``api_key`` query parameter
    (``/apikey-query``) and the ``session_key`` cookie (``/apikey-cookie``).
    """
    app = FastAPI()
    basic = HTTPBasic(realm=FASTAPI_REALM)
    basic_docs = HTTPBasic()
    bearer = HTTPBearer()
    oauth2 = OAuth2PasswordBearer(tokenUrl="token")

    def basic_user(credentials: Annotated[HTTPBasicCredentials, Depends(basic)]) -> str:
        user = _check_password(credentials)
        if user is None:
            raise basic.make_not_authenticated_error()  # the class's own 401
        return user

    def basic_docs_user(
        credentials: Annotated[HTTPBasicCredentials, Depends(basic_docs)],
    ) -> str:
        user = _check_password(credentials)
        if user is None:
            # Verbatim idiom of https://fastapi.tiangolo.com/advanced/security/http-basic-auth/
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="Incorrect username or password",
                headers={"WWW-Authenticate": "Basic"},
            )
        return user

    def bearer_user(
        credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
    ) -> str:
        return _token_user(credentials.credentials)

    def oauth2_user(token: Annotated[str, Depends(oauth2)]) -> str:
        return _token_user(token)

    for prefix, dependency in (
        ("basic", basic_user),
        ("basic-docs", basic_docs_user),
        ("bearer", bearer_user),
        ("oauth2", oauth2_user),
        ("apikey", _api_key_user(APIKeyHeader(name="X-API-Key"))),
        ("apikey-query", _api_key_user(APIKeyQuery(name="api_key"))),
        ("apikey-cookie", _api_key_user(APIKeyCookie(name="session_key"))),
    ):
        _add_routes(app, prefix, dependency)
    return app


def _api_key_user(api_key: APIKeyHeader | APIKeyQuery | APIKeyCookie) -> Any:
    """A dependency that maps the key ``api_key`` reads to its user, or refuses it."""

    def api_key_user(key: Annotated[str, Depends(api_key)]) -> str:
        user = _lookup(FASTAPI_API_KEYS, key)
        if user is None:
            # The same challenge the API-key classes send when the key is absent.
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="Invalid API key",
                headers={"WWW-Authenticate": "APIKey"},
            )
        return user

    return api_key_user


def _add_routes(app: FastAPI, prefix: str, dependency: Any) -> None:
    @app.get(f"/{prefix}/me")
    def read_me(user: Annotated[str, Depends(dependency)]) -> dict[str, str]:
        return {"user": user, "secret": f"{prefix} profile of {user}"}

    @app.get(f"/{prefix}/admin")
    def read_admin(user: Annotated[str, Depends(dependency)]) -> dict[str, str]:
        if user not in FASTAPI_ADMINS:
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN, detail="Not enough permissions"
            )
        return {"user": user, "secret": f"{prefix} admin console"}


def _check_password(credentials: HTTPBasicCredentials) -> str | None:
    # As in the FastAPI tutorial: compare user name and password as bytes, in
    # constant time, and always both of them.
    found = None
    for user, password in FASTAPI_PASSWORDS.items():
        right_user = secrets.compare_digest(
            credentials.username.encode("utf8"), user.encode("utf8")
        )
        right_password = secrets.compare_digest(
            credentials.password.encode("utf8"), password.encode("utf8")
        )
        if right_user and right_password:
            found = user
    return found


def _token_user(token: str) -> str:
    user = _lookup(FASTAPI_TOKENS, token)
    if user is None:
        # Idiom of https://fastapi.tiangolo.com/tutorial/security/simple-oauth2/
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Invalid authentication credentials",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def _lookup(table: dict[str, str], presented: str) -> str | None:
    found = None
    for user, value in table.items():
        if secrets.compare_digest(presented.encode("utf8"), value.encode("utf8")):
            found = user
    return found


@contextmanager
def serve_asgi(app: Any, **options: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn's h11 protocol on a free loopback port.

    ``options`` go to ``uvicorn.Config`` as they are. h11 is named because
    uvicorn would switch to httptools, whose limits differ, if it were
    installed.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((LOOPBACK, 0))
        port = sock.getsockname()[1]
        # log_config=None leaves the process's logging set-up alone.
        config = uvicorn.Config(
            app,
            http="h11",
            log_level="warning",
            log_config=None,
            access_log=False,
            **options,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True
        )
        thread.start()
        try:
            _wait_until_started(server, thread)
            yield f"http://{LOOPBACK}:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=START_TIMEOUT)
    finally:
        sock.close()


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn stopped before it started serving")
        if time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start within {START_TIMEOUT:g} s")
        time.sleep(0.01)
