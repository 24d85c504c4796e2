"""Django REST framework with TokenAuthentication and SessionAuthentication, for issue 4's tests.

Run as ``python drf_server.py READY_FILE``: it serves on a free port of
127.0.0.1 and writes the port to READY_FILE. Routes, written as DRF's
documentation shows them:

- ``POST /api-token-auth/``: DRF's ``obtain_auth_token``; JSON
  ``{username, password}`` gives ``{"token": ...}``.
- ``GET /token/me``, ``GET /token/admin``: ``TokenAuthentication`` with the
  keyword ``Bearer`` (the documented subclass), ``IsAuthenticated`` and
  ``IsAdminUser``.
- ``POST /login/``: logs a user in with Django's sessions (a ``sessionid``
  cookie); exempt from CSRF since it creates the session.
- ``GET /session/me``, ``GET /session/admin``: an endpoint that accepts either
  a Bearer token or the session cookie (Token first, so that a refusal is a
  401 with ``WWW-Authenticate: Bearer``).
"""

import os
import sys
import tempfile
import threading

import django
from credential_servers import DRF_STAFF, DRF_USERS, LOOPBACK
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="drf-credential-kinds-secret-0123456789abcdef0123456789",
    ALLOWED_HOSTS=[LOOPBACK, "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "rest_framework",
        "rest_framework.authtoken",
    ],
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(tempfile.mkdtemp(), "db.sqlite3")}},
    # Fast hashing: every login is a request of the audit.
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    USE_TZ=True,
)
django.setup()

from django.contrib.auth import authenticate, login  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402
from rest_framework.authentication import SessionAuthentication, TokenAuthentication  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from rest_framework.authtoken.views import obtain_auth_token  # noqa: E402
from rest_framework.decorators import (  # noqa: E402
    api_view,
    authentication_classes,
    permission_classes,
)
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated  # noqa: E402
from rest_framework.response import Response  # noqa: E402


class BearerTokenAuthentication(TokenAuthentication):
    """DRF's token authentication under the Bearer keyword, as its documentation suggests."""

    keyword = "Bearer"


def _profile(request, what):
    return Response({"user": request.user.username, "data": what})


@api_view(["GET"])
@authentication_classes([BearerTokenAuthentication])
@permission_classes([IsAuthenticated])
def token_me(request):
    return _profile(request, "token profile")


@api_view(["GET"])
@authentication_classes([BearerTokenAuthentication])
@permission_classes([IsAdminUser])
def token_admin(request):
    return _profile(request, "token admin console")


@api_view(["GET"])
@authentication_classes([BearerTokenAuthentication, SessionAuthentication])
@permission_classes([IsAuthenticated])
def session_me(request):
    return _profile(request, "session profile")


@api_view(["GET"])
@authentication_classes([BearerTokenAuthentication, SessionAuthentication])
@permission_classes([IsAdminUser])
def session_admin(request):
    return _profile(request, "session admin console")


@csrf_exempt
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def session_login(request):
    user = authenticate(request, username=request.data.get("username"), password=request.data.get("password"))
    if user is None:
        return Response({"detail": "Invalid username/password."}, status=400)
    login(request._request, user)
    return Response({"user": user.username})


urlpatterns = [
    path("api-token-auth/", obtain_auth_token),
    path("token/me", token_me),
    path("token/admin", token_admin),
    path("login/", session_login),
    path("session/me", session_me),
    path("session/admin", session_admin),
]


def main(ready_file: str) -> None:
    call_command("migrate", verbosity=0, interactive=False)
    for name, password in DRF_USERS.items():
        user = User.objects.create_user(name, password=password, is_staff=name in DRF_STAFF)
        Token.objects.create(user=user)

    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log(self, type, message, *args):  # noqa: A002 - werkzeug's signature
            pass

    server = make_server(LOOPBACK, 0, get_wsgi_application(), threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with open(ready_file + ".tmp", "w") as stream:
        stream.write(str(server.server_port))
    os.replace(ready_file + ".tmp", ready_file)
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1])
