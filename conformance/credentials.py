"""Credentials obtained at run time: OAuth 2 client-credentials grants and login requests.

So that CI needs no long-lived secret, a role may be given as a way to get a
token instead of the token itself::

    credentials:
      ops:
        client_credentials: {token_url: https://idp/token, client_id: ops,
                             client_secret: "${OPS_SECRET}", scope: "items:write"}
      web:
        login: {method: POST, path: /login, json: {user: web, password: "${PW}"},
                token: {json: access_token}}

A ``Wallet`` holds the credentials of one target in one pytest process. It
fetches a role's token the first time a case needs it, keeps it, and fetches
it again when it has expired (``expires_in`` of a token answer, or the
``exp`` claim of a JWT). A failed fetch is remembered too, so a broken login
costs one request per process, and every case that needs the role becomes
an error that names the role and the endpoint asked.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from .errors import CredentialError, TransportError
from .model import (
    ClientCredentialsGrant,
    Exchange,
    LoginRequest,
    Presentable,
    Secret,
    Target,
)
from .transport import Transport

# Fetch again this many seconds before the token says it expires.
REFRESH_MARGIN = 30.0


@dataclass(frozen=True)
class _Held:
    """A credential obtained at run time, and when to fetch it again (None: never)."""

    value: Presentable
    refresh_at: float | None


class Wallet:
    """The credentials of one target in this process, static or obtained at run time."""

    def __init__(self, target: Target, transport: Transport, clock: Callable[[], float] = time.time) -> None:
        self.target = target
        self._transport = transport
        self._clock = clock
        self._held: dict[str, _Held] = {}
        self._failed: dict[str, CredentialError] = {}
        self._lock = threading.Lock()

    def get(self, role: str) -> Presentable:
        """The credential ``role`` presents now; raises CredentialError if it cannot be had."""
        source = self.target.credentials[role]
        if not isinstance(source, (LoginRequest, ClientCredentialsGrant)):
            return source

        # One fetch at a time: cases of one process may run in threads.
        with self._lock:
            if role in self._failed:
                raise self._failed[role]
            held = self._held.get(role)
            if held is not None and (held.refresh_at is None or self._clock() < held.refresh_at):
                return held.value
            try:
                held = self._fetch(role, source)
            except CredentialError as exc:
                self._failed[role] = exc
                raise
            self._held[role] = held
            return held.value

    def view(self) -> Mapping[str, Presentable]:
        """The roles' credentials as a mapping that fetches each one when first read."""
        return _Roles(self)

    def obtained(self) -> tuple[Secret, ...]:
        """Every credential fetched so far, so that reports can mask them if echoed."""
        with self._lock:
            return tuple(h.value for h in self._held.values() if isinstance(h.value, Secret))

    def _fetch(self, role: str, source: LoginRequest | ClientCredentialsGrant) -> _Held:
        if isinstance(source, ClientCredentialsGrant):
            return self._grant(role, source)
        return self._login(role, source)

    def _grant(self, role: str, grant: ClientCredentialsGrant) -> _Held:
        """RFC 6749 §4.4.2: POST grant_type=client_credentials, client authenticated."""
        form = {"grant_type": "client_credentials"}
        if grant.scope:
            form["scope"] = grant.scope
        if grant.audience:
            form["audience"] = grant.audience
        basic = None
        if grant.client_auth == "basic":
            # RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding.
            basic = (quote(grant.client_id, safe=""), quote(grant.client_secret.reveal(), safe=""))
        else:
            form |= {"client_id": grant.client_id, "client_secret": grant.client_secret.reveal()}

        where = f"role {role!r}: {grant.describe()}"
        exchange = self._send(
            where,
            "POST",
            grant.token_url,
            headers=(("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")),
            body=urlencode(form),
            basic=basic,
        )[0]
        answer = _json_object(exchange)
        token = answer.get("access_token") if answer is not None else None
        if not isinstance(token, str) or not token:
            raise CredentialError(f"{where} answered {_status(exchange)} without an access_token{_oauth_error(answer)}")

        expires_in = answer.get("expires_in") if answer is not None else None
        now = self._clock()
        refresh_at = None
        if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool):
            refresh_at = now + max(float(expires_in) - REFRESH_MARGIN, 0.0)
        return _Held(Secret(token), refresh_at if refresh_at is not None else _jwt_refresh(token))

    def _login(self, role: str, login: LoginRequest) -> _Held:
        url = self.target.base_url + login.path
        where = f"role {role!r}: {login.describe()} at {url}"
        headers = [("Accept", "application/json")]
        if login.content_type:
            headers.append(("Content-Type", login.content_type))
        exchange, cookies = self._send(
            where,
            login.method,
            url,
            headers=tuple(headers),
            body=login.body.reveal() if login.body else None,
        )

        # A form login commonly answers 302 with the session cookie; both count.
        if exchange.status >= 400:
            raise CredentialError(f"{where} answered {_status(exchange)}, so the role could not log in")
        token = _token_from(exchange, cookies, login)
        if not token:
            raise CredentialError(
                f"{where} answered {_status(exchange)} without the token at {login.token.location} {login.token.name!r}"
            )
        return _Held(Secret(token), _jwt_refresh(token))

    def _send(
        self,
        where: str,
        method: str,
        url: str,
        *,
        headers: tuple[tuple[str, str], ...],
        body: str | None,
        basic: tuple[str, str] | None = None,
    ) -> tuple[Exchange, dict[str, str]]:
        try:
            return self._transport.fetch(method, url, headers=headers, body=body, basic=basic, what=where)
        except TransportError as exc:
            reason = str(exc).split(": ", 1)[-1].removesuffix("; the case could not be judged")
            raise CredentialError(f"{where}: {reason}") from exc


class _Roles(Mapping[str, Presentable]):
    """A read-only view of a wallet, keyed by role, that fetches on first read."""

    def __init__(self, wallet: Wallet) -> None:
        self._wallet = wallet

    def __getitem__(self, role: str) -> Presentable:
        return self._wallet.get(role)

    def __iter__(self) -> Iterator[str]:
        return iter(self._wallet.target.credentials)

    def __len__(self) -> int:
        return len(self._wallet.target.credentials)


def _token_from(exchange: Exchange, cookies: Mapping[str, str], login: LoginRequest) -> str | None:
    """The token of a login answer, where ``login.token`` says it is."""
    source = login.token
    if source.location == "cookie":
        return cookies.get(source.name) or None
    if source.location == "header":
        values = exchange.header_values(source.name)
        if not values:
            return None
        value = values[0].strip()
        # "Authorization: Bearer <token>" style answers carry the scheme too.
        if value[:7].lower() == "bearer ":
            value = value[7:].strip()
        return value or None

    found: Any = _json_object(exchange)
    for part in source.name.split("."):
        found = found.get(part) if isinstance(found, dict) else None
    return found if isinstance(found, str) and found else None


def _json_object(exchange: Exchange) -> dict[str, Any] | None:
    try:
        parsed = json.loads(exchange.body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _oauth_error(answer: Mapping[str, Any] | None) -> str:
    """The RFC 6749 §5.2 error code of a failed token request, which is safe to show."""
    error = answer.get("error") if answer is not None else None
    if isinstance(error, str) and error.replace("_", "").isalnum() and len(error) < 64:
        return f" (error={error!r})"
    return ""


def _jwt_refresh(token: str) -> float | None:
    """When to fetch a JWT again: shortly before its ``exp`` claim; None for opaque tokens."""
    from .jwts import expiry

    expires = expiry(token)
    return None if expires is None else expires - REFRESH_MARGIN


def _status(exchange: Exchange) -> str:
    return f"{exchange.status} {exchange.reason}".strip()
