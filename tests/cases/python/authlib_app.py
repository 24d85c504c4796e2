"""BUG-09: Authlib 0.15.2's Flask ``ResourceProtector`` guarding one route.

The validator is the one the Authlib docs ask developers to write: tokens
come from a table, none is revoked. A missing Authorization header raises
``MissingAuthorizationError``, which carries no challenge.
"""

import time

from authlib.integrations.flask_oauth2 import ResourceProtector, current_token
from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import Flask, jsonify
from launch import serve_wsgi

TOKEN = "authlib-token-3b2a1c0d9e8f7a6b5c4d"
EXPIRED_TOKEN = "authlib-token-9f8e7d6c5b4a3f2e1d0c"


class Token:
    def __init__(self, user, expires_at):
        self.user = user
        self.expires_at = expires_at

    def get_expires_at(self):
        return self.expires_at

    def get_scope(self):
        return "profile"


class Validator(BearerTokenValidator):
    def authenticate_token(self, token_string):
        tokens = {
            TOKEN: Token("bob", time.time() + 3600),
            EXPIRED_TOKEN: Token("bob", time.time() - 60),
        }
        return tokens.get(token_string)

    def request_invalid(self, request):
        return False

    def token_revoked(self, token):
        return False


require_oauth = ResourceProtector()
require_oauth.register_token_validator(Validator(realm="api"))

app = Flask(__name__)


@app.route("/home")
@require_oauth("profile")
def home():
    return jsonify(user=current_token.user)


def start():
    return {"authlib": serve_wsgi(app)}
