"""Tests for conformance.jwts: each JWT variant is broken in exactly the way it names."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import get_default_algorithms

from conformance.jwts import (
    FOREIGN_ISSUER,
    WRONG_AUDIENCE,
    JwtUnavailable,
    expiry,
    is_asymmetric,
    mint,
    public_pem,
    wrong_variants,
)
from conformance.model import JwtSettings, Secret

KEY = "hs256-test-key-that-is-long-enough-for-pyjwt-0123456789"
AUDIENCE = "https://api.example.com/"
ISSUER = "https://issuer.example.com/"
NOW = time.time()
CLAIMS = {"sub": "admin", "scope": "items:read", "iss": ISSUER, "aud": AUDIENCE, "iat": int(NOW), "exp": int(NOW) + 600}
VALID = jwt.encode(CLAIMS, KEY, algorithm="HS256", headers={"kid": "k1"})
SETTINGS = JwtSettings(Secret(KEY), "HS256")


def verify(token: str) -> dict[str, object]:
    """What a careful API does with a token."""
    return jwt.decode(token, KEY, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER)


def test_valid_token_verifies() -> None:
    assert verify(VALID)["sub"] == "admin"


@pytest.mark.parametrize(
    ("variant", "error"),
    [
        ("exp-passed", jwt.ExpiredSignatureError),
        ("not-yet-valid", jwt.ImmatureSignatureError),
        ("bad-signature", jwt.InvalidSignatureError),
        ("alg-none", jwt.InvalidAlgorithmError),
        ("signature-stripped", jwt.InvalidSignatureError),
        ("tampered-claims", jwt.InvalidSignatureError),
        ("foreign-issuer", jwt.InvalidIssuerError),
        ("wrong-audience", jwt.InvalidAudienceError),
    ],
)
def test_variant_is_refused_for_its_own_reason(variant: str, error: type[Exception]) -> None:
    token, description = mint(variant, VALID, SETTINGS, NOW)

    with pytest.raises(error):
        verify(token)
    assert KEY not in description and VALID not in description


def test_variants_keep_the_header_and_other_claims() -> None:
    # Re-signed variants change one claim and keep the rest, kid included.
    token, _ = mint("foreign-issuer", VALID, SETTINGS, NOW)

    assert jwt.get_unverified_header(token)["kid"] == "k1"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims == {**CLAIMS, "iss": FOREIGN_ISSUER}
    wrong_aud = jwt.decode(mint("wrong-audience", VALID, SETTINGS, NOW)[0], options={"verify_signature": False})
    assert wrong_aud["aud"] == WRONG_AUDIENCE


def test_expired_variant_is_past_any_leeway() -> None:
    token, _ = mint("exp-passed", VALID, SETTINGS, NOW)

    assert jwt.decode(token, options={"verify_signature": False})["exp"] <= NOW - 3600
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, KEY, algorithms=["HS256"], audience=AUDIENCE, leeway=600)


def test_unsigned_variants_have_an_empty_signature() -> None:
    assert mint("alg-none", VALID, SETTINGS, NOW)[0].endswith(".")
    assert jwt.get_unverified_header(mint("alg-none", VALID, SETTINGS, NOW)[0])["alg"] == "none"
    stripped = mint("signature-stripped", VALID, SETTINGS, NOW)[0]
    assert stripped == VALID.rsplit(".", 1)[0] + "."


@pytest.mark.parametrize("variant", ["exp-passed", "not-yet-valid", "foreign-issuer", "wrong-audience"])
def test_keyed_variants_without_a_key_say_why(variant: str) -> None:
    with pytest.raises(JwtUnavailable) as excinfo:
        mint(variant, VALID, JwtSettings(), NOW)

    assert str(excinfo.value) == (
        f"wrong/expired variant {variant!r} re-signs the token, which needs the API's signing key: "
        "give it as jwt.key in the targets file to enable this case"
    )


@pytest.mark.parametrize("variant", ["bad-signature", "alg-none", "signature-stripped", "tampered-claims"])
def test_keyless_variants_need_no_key(variant: str) -> None:
    token, _ = mint(variant, VALID, JwtSettings(), NOW)

    assert token.count(".") == 2 and token != VALID


def test_opaque_token_is_not_a_jwt() -> None:
    with pytest.raises(JwtUnavailable) as excinfo:
        mint("alg-none", "opaque-token-0123456789", JwtSettings(), NOW)

    assert str(excinfo.value) == (
        "the role's valid token is not a JWT (it has 1 dot-separated parts, not 3), so no JWT variant "
        "can be derived from it; drop the jwt key if the API's tokens are opaque"
    )


def rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def test_hs_rs_confusion_is_hmac_keyed_with_the_public_pem() -> None:
    # Given an RS256 API and its private key
    private = rsa_pem()
    settings = JwtSettings(Secret(private), "RS256")
    valid = jwt.encode(CLAIMS, private, algorithm="RS256")

    # When the confusion variant is minted
    token, _ = mint("hs-rs-confusion", valid, settings, NOW)

    # Then it is HS256, and an API that lets the token pick the algorithm would accept it
    head, body, signature = token.split(".")
    pem = public_pem(settings)
    assert pem is not None
    hs256 = get_default_algorithms()["HS256"]
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert hs256.verify(f"{head}.{body}".encode(), pem, jwt.utils.base64url_decode(signature))


def test_confusion_is_declared_for_asymmetric_algorithms_only() -> None:
    assert "hs-rs-confusion" not in wrong_variants(SETTINGS)
    assert "hs-rs-confusion" in wrong_variants(JwtSettings(algorithm="RS256"))
    assert is_asymmetric(JwtSettings(Secret(rsa_pem())))
    with pytest.raises(JwtUnavailable):
        mint("hs-rs-confusion", VALID, JwtSettings(algorithm="RS256"), NOW)


def test_expiry_reads_exp_of_jwts_only() -> None:
    assert expiry(VALID) == CLAIMS["exp"]
    assert expiry("opaque") is None
    assert expiry("a.b.c") is None
