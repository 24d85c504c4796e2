"""BUG-14 and BUG-22 on Django 2.2, and their fixed twins.

- ``/basic/``: DRF's ``BasicAuthentication`` with ``IsAuthenticated``. DRF
  3.10.3 decodes user-pass as ISO-8859-1, so bob's UTF-8 password
  ``pässwörd`` never matches (401); 3.12 tries UTF-8 first (PR #7193).
- ``/o/token/``: django-oauth-toolkit's token endpoint with a confidential
  client using the client-credentials grant and HTTP Basic client
  authentication. 1.1.0 splits the decoded Basic value on ``:`` unguarded,
  so a value with no colon raises ValueError (500); 1.1.2 refuses it.
  oauthlib reads ``grant_type`` from the query as well as the body, which
  lets the suite's body-less POST ask for a token.
"""

import os
import tempfile

import django
from django.conf import settings
from launch import serve_wsgiref

CLIENT_ID, CLIENT_SECRET = "case-client", "case-client-secret"
PASSWORDS = {"alice": "secret", "bob": "pässwörd"}

settings.configure(
    DEBUG=False,
    SECRET_KEY="case-secret-for-the-django2-tests-0123456789abcdef",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "rest_framework",
        "oauth2_provider",
    ],
    MIDDLEWARE=[],
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(tempfile.mkdtemp(), "db.sqlite3"),
        }
    },
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "rest_framework.authentication.BasicAuthentication"
        ],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
        "UNAUTHENTICATED_USER": None,
    },
)
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import path  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402
from oauth2_provider.views import TokenView  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402


class Me(APIView):
    def get(self, request):
        return Response({"user": request.user.username})


urlpatterns = [
    path("basic/", Me.as_view()),
    path("o/token/", TokenView.as_view()),
]


def start():
    call_command("migrate", verbosity=0)
    for username, password in PASSWORDS.items():
        User.objects.create_user(username, password=password)
    Application.objects.create(
        name="case client",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    return {"django": serve_wsgiref(get_wsgi_application())}
