"""The embedded demos' JWTs: how they are issued, and the classic mistakes demo-broken makes with them.

Each start of a demo signs its tokens with HS256 and a fresh random secret,
which its target exposes as ``jwt.key`` so that the suite can mint the
re-signed JWT variants. A conformant demo accepts exactly the tokens it
issued; ``demo-broken`` plants five mistakes (RFC 8725 §2 lists them):

- ``alg-none``: a token whose header says ``alg: none`` is taken unsigned;
- ``unverified``: the signature is never checked (claims still are);
- ``exp-unchecked``: the signature is checked, ``exp`` and ``nbf`` are not;
- ``iss-aud-unchecked``: the signature and lifetime are checked, ``iss`` and
  ``aud`` are not;
- ``alg-from-header``: the verifier holds an identity provider's RSA public
  key for RS256 and lets the token's header pick the algorithm, so an HS256
  token keyed with that key's PEM passes, the classic confusion (RFC 8725
  §2.1, §3.1); the target exposes the PEM as ``jwt.public_key``.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import get_default_algorithms
from jwt.utils import base64url_decode

ISSUER = "urn:pytest-auth-conformance:demo"
AUDIENCE = "urn:pytest-auth-conformance:demo-api"
ALGORITHM = "HS256"

Mistake = Literal["alg-none", "unverified", "exp-unchecked", "iss-aud-unchecked", "alg-from-header"]


def new_secret() -> str:
    """A fresh HS256 secret for one start of a demo."""
    return secrets.token_urlsafe(48)


def new_public_pem() -> bytes:
    """The PEM public key of a fresh RSA key pair; its private half is dropped, as an API never holds it."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


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


def careless_role(token: str, secret: str, mistake: Mistake, public_pem: bytes = b"") -> str | None:
    """The role a careless verifier would grant ``token``, or None if even it refuses.

    ``public_pem`` is the RSA public key that ``alg-from-header`` trusts.

    >>> careless_role("<header alg none>.<claims>.", secret, "alg-none")  # doctest: +SKIP
    'admin'
    """
    claims = _careless_claims(token, secret, mistake, public_pem)
    if claims is None:
        return None
    role = claims.get("role")
    return role if isinstance(role, str) else None


def _careless_claims(token: str, secret: str, mistake: Mistake, public_pem: bytes) -> dict[str, Any] | None:
    checks: dict[str, Any] = {"audience": AUDIENCE, "issuer": ISSUER}
    try:
        if mistake == "iss-aud-unchecked":
            # The mistake: no issuer or audience passed, and PyJWT's aud check switched off.
            return jwt.decode(token, secret, algorithms=[ALGORITHM], options={"verify_aud": False})
        if mistake == "alg-from-header":
            if not _header_alg_verifies(token, public_pem):
                return None
            return jwt.decode(token, options={"verify_signature": False, "verify_exp": True, "verify_nbf": True, "verify_aud": True, "verify_iss": True}, **checks)
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


def _header_alg_verifies(token: str, public_pem: bytes) -> bool:
    """Verify ``token`` with the algorithm its own header names and the one key held, the RSA public key.

    This is how PyJWT before 1.5.1 behaved when called without an algorithm
    allow-list: an HS* algorithm takes the PEM's bytes as its HMAC secret.
    """
    algorithm = str(jwt.get_unverified_header(token).get("alg", ""))
    implementation = get_default_algorithms().get(algorithm)
    if implementation is None or not public_pem:
        return False
    signing_input, _, signature = token.rpartition(".")
    # Today's PyJWT refuses a PEM in HMAC's prepare_key, so the bytes go to verify as they are.
    key = public_pem if algorithm.startswith("HS") else implementation.prepare_key(public_pem)
    return bool(implementation.verify(signing_input.encode("ascii"), key, base64url_decode(signature)))
