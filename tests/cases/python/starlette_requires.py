"""BUG-03: Starlette's AuthenticationMiddleware with ``@requires``, written as the docs write it.

The backend is the documentation's BasicAuthBackend example plus a password
check; the middleware is registered without ``on_error``, so a failed
authentication becomes the default 400 and an anonymous user meets
``@requires``'s 403.
"""

import base64
import binascii
import secrets

from launch import serve_asgi
from starlette.applications import Starlette
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    SimpleUser,
    requires,
)
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route

PASSWORDS = {"alice": "wonderland", "bob": "secret"}
ADMINS = {"alice"}


class BasicAuthBackend(AuthenticationBackend):
    async def authenticate(self, conn):
        if "Authorization" not in conn.headers:
            return None

        auth = conn.headers["Authorization"]
        try:
            scheme, credentials = auth.split()
            if scheme.lower() != "basic":
                return None
            decoded = base64.b64decode(credentials).decode("ascii")
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise AuthenticationError("Invalid basic auth credentials") from None

        username, _, password = decoded.partition(":")
        expected = PASSWORDS.get(username)
        if expected is None or not secrets.compare_digest(password.encode(), expected.encode()):
            raise AuthenticationError("Incorrect user name or password")
        scopes = ["authenticated"] + (["admin"] if username in ADMINS else [])
        return AuthCredentials(scopes), SimpleUser(username)


@requires("authenticated")
async def me(request):
    return JSONResponse({"user": request.user.display_name})


@requires(["authenticated", "admin"])
async def admin(request):
    return JSONResponse({"user": request.user.display_name, "admin": True})


app = Starlette(
    routes=[Route("/me", me), Route("/admin", admin)],
    middleware=[Middleware(AuthenticationMiddleware, backend=BasicAuthBackend())],
)


def start():
    return {"starlette": serve_asgi(app)}
