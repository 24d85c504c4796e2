"""BUG-01: FastAPI's stock security classes, one route each (and the fixed twin).

The same module runs on fastapi 0.115.6 (group ``legacy``, the fault) and
0.165.0 (group ``modern``, fixed by PR #13786 in 0.122.0). The handlers
check the credential the way the FastAPI tutorials do and refuse with a
well-formed challenge, so that every fault the suite reports comes from the
framework's own answer to a request it refused before the handler ran.
"""

# No ``from __future__ import annotations``: FastAPI reads the signatures at runtime.

import secrets
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import (
    APIKeyHeader,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
)
from launch import serve_asgi

TOKEN = "fastapi-token-5c1e9a7b3d2f4e6a8b0c"
EXPIRED_TOKEN = "fastapi-token-0d9e8f7a6b5c4d3e2f1a"
API_KEY = "fastapi-key-7a6b5c4d3e2f1a0b9c8d"
USER, PASSWORD = "bob", "secret"

BEARER_REFUSAL = {"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'}

app = FastAPI()
bearer = HTTPBearer()
# realm= makes the challenge `Basic realm="api"`; without it FastAPI sends a
# bare `Basic`, which the suite rightly flags (RFC 7617 §2: realm is REQUIRED).
basic = HTTPBasic(realm="api")
api_key = APIKeyHeader(name="X-API-Key")
oauth2 = OAuth2PasswordBearer(tokenUrl="token")


def _same(given: str, expected: str) -> bool:
    # compare_digest refuses str with non-ASCII characters (TypeError, a 500): compare bytes.
    return secrets.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


def _check_token(token: str) -> None:
    if not _same(token, TOKEN):
        raise HTTPException(
            status_code=401, detail="Invalid token", headers=BEARER_REFUSAL
        )


@app.get("/bearer")
def bearer_route(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
) -> dict:
    _check_token(credentials.credentials)
    return {"ok": True}


@app.get("/basic")
def basic_route(credentials: Annotated[HTTPBasicCredentials, Depends(basic)]) -> dict:
    good_user = secrets.compare_digest(credentials.username.encode(), USER.encode())
    good_password = secrets.compare_digest(
        credentials.password.encode(), PASSWORD.encode()
    )
    if not (good_user and good_password):
        raise HTTPException(
            status_code=401,
            detail="Incorrect user or password",
            headers={"WWW-Authenticate": 'Basic realm="api"'},
        )
    return {"ok": True}


@app.get("/apikey")
def api_key_route(key: Annotated[str, Depends(api_key)]) -> dict:
    if not _same(key, API_KEY):
        raise HTTPException(
            status_code=401,
            detail="Invalid API key",
            headers={"WWW-Authenticate": 'APIKey realm="api"'},
        )
    return {"ok": True}


@app.get("/oauth2")
def oauth2_route(token: Annotated[str, Depends(oauth2)]) -> dict:
    _check_token(token)
    return {"ok": True}


def start():
    return {"fastapi": serve_asgi(app)}
