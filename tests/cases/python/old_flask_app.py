"""BUG-12 and BUG-21 on Flask 2.0.3, and their fixed twins.

- ``/httpauth``: Flask-HTTPAuth's ``HTTPBasicAuth`` accepting bob/secret.
  4.2.0 decodes user-pass as UTF-8 without a guard, so bytes that are not
  UTF-8 raise UnicodeDecodeError (500); 4.3.0 treats them as no credentials.
- ``/jwt``: a resource server verifying HS256 tokens with the ``jwt``
  package (GehirnInc) and an oct key. 0.5.4 accepts ``alg: none`` even though
  a key is given; 0.6.x only allows signed algorithms by default.
  ``/jwt-mint?s=N`` signs a token for bob expiring in N seconds.

The app refuses with well-formed challenges itself, so the only faults are
the libraries'.
"""

import base64
import time

import flask_httpauth
import jwt
from flask import Flask, jsonify, request
from flask_httpauth import HTTPBasicAuth
from launch import serve_wsgi

KEY = jwt.jwk_from_dict(
    {
        "kty": "oct",
        "k": base64.urlsafe_b64encode(b"case-secret-for-python-jwt-tests")
        .rstrip(b"=")
        .decode(),
    }
)
BEARER_CHALLENGE = 'Bearer realm="api"'
ISSUER, AUDIENCE = "https://case-issuer.example/", "case-api"

app = Flask(__name__)
basic = HTTPBasicAuth()


@basic.verify_password
def verify_password(username, password):
    return username if (username, password) == ("bob", "secret") else None


@app.route("/httpauth")
@basic.login_required
def httpauth():
    return jsonify(user=basic.current_user(), flask_httpauth=flask_httpauth.__version__)


def _refuse(error):
    response = jsonify(error=error)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = BEARER_CHALLENGE + (
        f', error="{error}"' if error else ""
    )
    return response


@app.route("/jwt")
def jwt_resource():
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return _refuse(None)
    try:
        claims = jwt.JWT().decode(token, KEY)
    except Exception:  # every decoding failure is an invalid token
        return _refuse("invalid_token")
    now = time.time()
    if not isinstance(claims, dict) or claims.get("exp", 0) <= now or claims.get("nbf", 0) > now:
        return _refuse("invalid_token")
    if claims.get("iss") != ISSUER or claims.get("aud") != AUDIENCE:
        return _refuse("invalid_token")
    return jsonify(sub=claims.get("sub"))


@app.route("/jwt-mint")
def jwt_mint():
    seconds = int(request.args.get("s", "600"))
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "bob", "exp": int(time.time()) + seconds}
    return jsonify(token=jwt.JWT().encode(claims, KEY, "HS256"))


def start():
    return {"flask": serve_wsgi(app)}
