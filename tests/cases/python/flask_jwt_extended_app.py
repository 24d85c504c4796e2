"""BUG-08 and BUG-13: Flask-JWT-Extended's ``jwt_required`` with its default error handlers.

Runs on 4.7.4 (group ``modern``: no challenge on 401, 422 for bad tokens)
and on 3.24.1 (group ``legacy``: a comma in the header raises IndexError).
``/mint?s=N`` signs a token for bob that expires in N seconds (negative N:
already expired), so the tests can put real tokens in the targets file.
"""

from datetime import timedelta

import flask_jwt_extended
from flask import Flask, jsonify, request
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    get_jwt_identity,
    jwt_required,
)
from launch import serve_wsgi

app = Flask(__name__)
app.config["JWT_SECRET_KEY"] = "case-secret-for-flask-jwt-extended-tests"
JWTManager(app)

# 4.x made jwt_required a decorator factory: @jwt_required() instead of @jwt_required.
_MAJOR = int(flask_jwt_extended.__version__.split(".")[0])
protected = jwt_required() if _MAJOR >= 4 else jwt_required
if _MAJOR >= 4:
    # Check issuer and audience too, as a careful 4.x app does.
    app.config["JWT_ENCODE_ISSUER"] = app.config["JWT_DECODE_ISSUER"] = "https://case-issuer.example/"
    app.config["JWT_ENCODE_AUDIENCE"] = app.config["JWT_DECODE_AUDIENCE"] = "case-api"


@app.route("/protected")
@protected
def protected_route():
    return jsonify(user=get_jwt_identity())


@app.route("/mint")
def mint():
    seconds = int(request.args.get("s", "600"))
    return jsonify(
        token=create_access_token(
            identity="bob", expires_delta=timedelta(seconds=seconds)
        )
    )


def start():
    return {"flask_jwt_extended": serve_wsgi(app)}
