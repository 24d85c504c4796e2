"""BUG-02 and BUG-20: Django REST framework 3.18.3 and simplejwt 5.3.1 in one Django project.

- ``/session-first/`` uses the global default ``[Session, Basic]`` (BUG-02);
  ``/basic-first/`` is the twin with ``[Basic, Session]``.
- ``/admin-only/`` is ``[Basic, Session]`` with ``IsAdminUser``: bob is a
  valid user without the privilege (a 403 control).
- ``/jwt/`` uses simplejwt's ``JWTAuthentication`` (BUG-20 and its control);
  ``/jwt-mint/?s=N`` signs an access token for bob valid N seconds.

Users live in a throw-away SQLite file, hashed with MD5 so that each Basic
request stays fast (the stock PBKDF2 costs ~0.3 s per request).
"""

import datetime
import os
import tempfile

import django
from django.conf import settings
from launch import serve_wsgiref

PASSWORD = "secret"

settings.configure(
    DEBUG=False,
    SECRET_KEY="case-secret-for-the-drf-tests-0123456789abcdef",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "rest_framework",
    ],
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ],
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(tempfile.mkdtemp(), "db.sqlite3"),
        }
    },
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "rest_framework.authentication.SessionAuthentication",
            "rest_framework.authentication.BasicAuthentication",
        ],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    },
    SIMPLE_JWT={
        "SIGNING_KEY": "case-signing-key-for-simplejwt-0123456789abcdef",
        "ISSUER": "https://case-issuer.example/",
        "AUDIENCE": "case-api",
    },
)
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.authentication import BasicAuthentication, SessionAuthentication  # noqa: E402
from rest_framework.permissions import IsAdminUser  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402
from rest_framework_simplejwt.authentication import JWTAuthentication  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402


class SessionFirst(APIView):
    def get(self, request):
        return Response({"user": request.user.username})


class BasicFirst(SessionFirst):
    authentication_classes = [BasicAuthentication, SessionAuthentication]


class AdminOnly(BasicFirst):
    permission_classes = [IsAdminUser]


class Jwt(SessionFirst):
    authentication_classes = [JWTAuthentication]


def jwt_mint(request):
    token = AccessToken.for_user(User.objects.get(username="bob"))
    token.set_exp(lifetime=datetime.timedelta(seconds=int(request.GET.get("s", "600"))))
    return JsonResponse({"token": str(token)})


urlpatterns = [
    path("session-first/", SessionFirst.as_view()),
    path("basic-first/", BasicFirst.as_view()),
    path("admin-only/", AdminOnly.as_view()),
    path("jwt/", Jwt.as_view()),
    path("jwt-mint/", jwt_mint),
]


def start():
    call_command("migrate", verbosity=0)
    User.objects.create_user("bob", password=PASSWORD)
    User.objects.create_user("alice", password=PASSWORD, is_staff=True)
    return {"drf": serve_wsgiref(get_wsgi_application())}
