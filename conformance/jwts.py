"""JWT variants: a role's valid token, broken or re-signed in one named way each.

The valid token's header and claims are read without verifying them: they are
only copied into the variants, never trusted. Signing goes through PyJWT and
keys through cryptography; nothing here computes a signature by hand.

========================  =====================================================  ==========
variant                   what changes (RFC)                                     needs
========================  =====================================================  ==========
expired:exp-passed        ``exp`` an hour ago, beyond any leeway (7519 §4.1.4)   key
expired:not-yet-valid     ``nbf`` an hour ahead (7519 §4.1.5)                    key
wrong:bad-signature       random signature bytes of the same length (8725 §3.3)  nothing
wrong:alg-none            ``alg: none`` and no signature (8725 §3.1)              nothing
wrong:signature-stripped  the original header and claims, no signature           nothing
wrong:tampered-claims     ``sub`` changed, the old signature kept (8725 §3.3)    nothing
wrong:foreign-issuer      ``iss`` of another issuer, re-signed (8725 §3.8)       key
wrong:wrong-audience      ``aud`` of another service, re-signed (7519 §4.1.3)    key
wrong:hs-rs-confusion     HS256 keyed with the public key's PEM (8725 §3.1)      public key
========================  =====================================================  ==========

``hs-rs-confusion`` is declared only for asymmetric algorithms, which the
targets file says (``jwt.algorithm``, ``jwt.public_key`` or a PEM ``jwt.key``),
so that case IDs never depend on a fetched token.
"""

from __future__ import annotations

import json
import secrets
import time
import warnings
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import get_default_algorithms
from jwt.utils import base64url_decode, base64url_encode

from .model import JwtSettings

EXPIRED_VARIANTS = ("exp-passed", "not-yet-valid")
WRONG_VARIANTS = (
    "bad-signature",
    "alg-none",
    "signature-stripped",
    "tampered-claims",
    "foreign-issuer",
    "wrong-audience",
)
CONFUSION_VARIANT = "hs-rs-confusion"

FOREIGN_ISSUER = "https://foreign-issuer.invalid/"
WRONG_AUDIENCE = "https://another-service.invalid/"

# RFC 7519 §4.1.4 allows "a few minutes" of leeway; an hour is past any.
_PAST_LEEWAY = 3600
_NEEDS_KEY = frozenset({"exp-passed", "not-yet-valid", "foreign-issuer", "wrong-audience"})
_ASYMMETRIC_PREFIXES = ("RS", "PS", "ES", "Ed")


class JwtUnavailable(Exception):
    """The variant cannot be made (no key, or the token is no JWT); the case is skipped."""


def wrong_variants(settings: JwtSettings) -> tuple[str, ...]:
    """The ``wrong`` JWT variants a target declares, from its settings only."""
    return WRONG_VARIANTS + ((CONFUSION_VARIANT,) if is_asymmetric(settings) else ())


def is_asymmetric(settings: JwtSettings) -> bool:
    """Tell whether the targets file says the tokens are signed with a key pair."""
    algorithm = settings.algorithm or ""
    key = settings.key.reveal() if settings.key else ""
    return (
        algorithm.startswith(_ASYMMETRIC_PREFIXES)
        or settings.public_key is not None
        or "PRIVATE KEY" in key
    )


def mint(variant: str, token: str, settings: JwtSettings, now: float | None = None) -> tuple[str, str]:
    """Return (token, description) for ``variant`` derived from the valid ``token``.

    Raises JwtUnavailable, with a sentence saying why, when ``token`` is not
    a JWT or the variant needs a key the targets file does not give.
    """
    header, claims, signing_input, signature = _split(token)
    now = time.time() if now is None else now

    if variant in _NEEDS_KEY and settings.key is None:
        raise JwtUnavailable(
            f"wrong/expired variant {variant!r} re-signs the token, which needs the API's signing key: "
            "give it as jwt.key in the targets file to enable this case"
        )

    if variant == "exp-passed":
        changed = {**claims, "exp": int(now - _PAST_LEEWAY), "iat": int(now - 2 * _PAST_LEEWAY)}
        changed.pop("nbf", None)
        return _sign(changed, header, settings), "a JWT signed with the API's key whose exp passed an hour ago"
    if variant == "not-yet-valid":
        changed = {**claims, "nbf": int(now + _PAST_LEEWAY), "iat": int(now), "exp": int(now + 2 * _PAST_LEEWAY)}
        return _sign(changed, header, settings), "a JWT signed with the API's key whose nbf is an hour ahead"
    if variant == "bad-signature":
        forged = base64url_encode(secrets.token_bytes(max(len(signature), 32))).decode("ascii")
        return f"{signing_input}.{forged}", "the valid JWT with random signature bytes"
    if variant == "alg-none":
        unsigned = jwt.encode(claims, "", algorithm="none", headers=_kept(header))
        return unsigned, "the valid JWT's claims with alg none and no signature"
    if variant == "signature-stripped":
        return f"{signing_input}.", "the valid JWT's header and claims with the signature removed"
    if variant == "tampered-claims":
        tampered = {**claims, "sub": f"{claims.get('sub', '')}-tampered"}
        payload = base64url_encode(_compact(tampered)).decode("ascii")
        head = signing_input.split(".")[0]
        return f"{head}.{payload}.{base64url_encode(signature).decode('ascii')}", "the valid JWT with sub changed and the old signature kept"
    if variant == "foreign-issuer":
        changed = {**claims, "iss": FOREIGN_ISSUER}
        return _sign(changed, header, settings), f"a JWT signed with the API's key but issued by {FOREIGN_ISSUER}"
    if variant == "wrong-audience":
        changed = {**claims, "aud": WRONG_AUDIENCE}
        return _sign(changed, header, settings), f"a JWT signed with the API's key for the audience {WRONG_AUDIENCE}"
    if variant == CONFUSION_VARIANT:
        return _confused(header, claims, settings), "an HS256 JWT whose HMAC key is the API's public key (PEM)"
    raise ValueError(f"unknown JWT variant {variant!r}")


def _split(token: str) -> tuple[dict[str, Any], dict[str, Any], str, bytes]:
    """Header, claims, signing input and signature of a compact JWS, none of it verified."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JwtUnavailable(
            f"the role's valid token is not a JWT (it has {len(parts)} dot-separated parts, not 3), "
            "so no JWT variant can be derived from it; drop the jwt key if the API's tokens are opaque"
        )
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
        signature = base64url_decode(parts[2])
    except (jwt.PyJWTError, ValueError) as exc:
        raise JwtUnavailable(f"the role's valid token is not a readable JWT ({type(exc).__name__})") from exc
    return header, claims, f"{parts[0]}.{parts[1]}", signature


def _kept(header: dict[str, Any]) -> dict[str, Any]:
    """Header parameters to carry over; PyJWT writes alg (and typ) itself."""
    return {k: v for k, v in header.items() if k != "alg"}


def _compact(claims: dict[str, Any]) -> bytes:
    return json.dumps(claims, separators=(",", ":")).encode()


def _sign(claims: dict[str, Any], header: dict[str, Any], settings: JwtSettings) -> str:
    assert settings.key is not None
    algorithm = settings.algorithm or str(header.get("alg", "HS256"))
    with warnings.catch_warnings():
        # The key is the API's own; a short HMAC key is its problem, not the run's.
        warnings.simplefilter("ignore")
        return jwt.encode(claims, settings.key.reveal(), algorithm=algorithm, headers=_kept(header))


def _confused(header: dict[str, Any], claims: dict[str, Any], settings: JwtSettings) -> str:
    """HS256 keyed with the public key's PEM bytes, the classic algorithm confusion."""
    pem = public_pem(settings)
    if pem is None:
        raise JwtUnavailable(
            "hs-rs-confusion needs the API's public key: give jwt.public_key, or jwt.key as a PEM private key"
        )
    head = base64url_encode(_compact({**_kept(header), "alg": "HS256"})).decode("ascii")
    body = base64url_encode(_compact(claims)).decode("ascii")
    signing_input = f"{head}.{body}"
    # PyJWT refuses a PEM as an HMAC key when encoding, rightly; its HS256
    # algorithm object still computes the MAC the attacker would send.
    mac = get_default_algorithms()["HS256"].sign(signing_input.encode("ascii"), pem)
    return f"{signing_input}.{base64url_encode(mac).decode('ascii')}"


def public_pem(settings: JwtSettings) -> bytes | None:
    """The public key as PEM bytes: given, or derived from a PEM private key."""
    if settings.public_key is not None:
        return settings.public_key.strip().encode() + b"\n"
    key = settings.key.reveal() if settings.key else ""
    if "PRIVATE KEY" not in key:
        return None
    private = serialization.load_pem_private_key(key.encode(), password=None)
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT, unverified, or None for anything else."""
    if token.count(".") != 2:
        return None
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError):
        return None
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None
