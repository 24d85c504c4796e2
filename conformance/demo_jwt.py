"""The embedded demos' JWTs: how they are issued, and the classic mistakes demo-broken makes with them.

Each start of a demo signs its tokens with HS256 and a fresh random secret,
which its target exposes as ``jwt.key`` so that the suite can mint the
re-signed JWT variants. A conformant demo accepts exactly the tokens it
issued; ``demo-broken`` plants three mistakes (RFC 8725 §2 lists them):

- ``alg-none``: a token whose header says ``alg: none`` is taken unsigned;
- ``unverified``: the signature is never checked (claims still are);
- ``exp-unchecked``: the signature is checked, ``exp`` and ``nbf`` are not.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal

import jwt

ISSUER = "urn:pytest-auth-conformance:demo"
AUDIENCE = "urn:pytest-auth-conformance:demo-api"
ALGORITHM = "HS256"

Mistake = Literal["alg-none", "unverified", "exp-unchecked"]


def new_secret() -> str:
    """A fresh HS256 secret for one start of a demo."""
    return secrets.token_urlsafe(48)


def issue(role: str, scopes: tuple[str, ...], secret: str, now: float, lifetime: float) -> str:
    """Sign a token for ``role``, valid from ``now`` for ``lifetime`` seconds (negative: already expired)."""
    claims = {
        "sub": f"demo-{role}",
        "role": role,
        "scope": " ".join(scopes),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": int(min(now, now + lifetime)) - 1,
        "exp": int(now + lifetime),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def careless_role(token: str, secret: str, mistake: Mistake) -> str | None:
    """The role a careless verifier would grant ``token``, or None if even it refuses.

    >>> careless_role("<header alg none>.<claims>.", secret, "alg-none")  # doctest: +SKIP
    'admin'
    """
    claims = _careless_claims(token, secret, mistake)
    if claims is None:
        return None
    role = claims.get("role")
    return role if isinstance(role, str) else None


def _careless_claims(token: str, secret: str, mistake: Mistake) -> dict[str, Any] | None:
    checks: dict[str, Any] = {"audience": AUDIENCE, "issuer": ISSUER}
    try:
        if mistake == "alg-none" and str(jwt.get_unverified_header(token).get("alg", "")).lower() == "none":
            # The mistake: the token's own header picks "no signature".
            return jwt.decode(token, options={"verify_signature": False, "verify_exp": True, "verify_aud": True, "verify_iss": True}, **checks)
        if mistake == "unverified":
            options: Any = {"verify_signature": False, "verify_exp": True, "verify_nbf": True, "verify_aud": True, "verify_iss": True}
            return jwt.decode(token, options=options, **checks)
        if mistake == "exp-unchecked":
            return jwt.decode(token, secret, algorithms=[ALGORITHM], options={"verify_exp": False, "verify_nbf": False}, **checks)
        return jwt.decode(token, secret, algorithms=[ALGORITHM], **checks)
    except (jwt.PyJWTError, ValueError):
        return None
