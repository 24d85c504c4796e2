"""Tests for conformance.demo_jwt: the demos' tokens and the JWT mistakes demo-broken plants."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conformance import demo_jwt
from conformance.jwts import CONFUSION_VARIANT, EXPIRED_VARIANTS, WRONG_VARIANTS, mint
from conformance.model import JwtSettings, Secret

SECRET = demo_jwt.new_secret()
NOW = time.time()
VALID = demo_jwt.issue("admin", ("items:read",), SECRET, NOW, 3600)
EXPIRED = demo_jwt.issue("admin", ("items:read",), SECRET, NOW, -3600)
# The identity provider's key pair, whose public half the alg-from-header verifier trusts.
PRIVATE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = PRIVATE_KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
SETTINGS = JwtSettings(Secret(SECRET), demo_jwt.ALGORITHM, PUBLIC_PEM.decode("ascii"))


@pytest.mark.parametrize(
    ("mistake", "accepted"),
    [
        ("alg-none", {"alg-none"}),
        ("unverified", {"bad-signature", "alg-none", "signature-stripped", "tampered-claims", CONFUSION_VARIANT}),
        ("exp-unchecked", {"exp-passed", "not-yet-valid", "expired"}),
        ("iss-aud-unchecked", {"foreign-issuer", "wrong-audience"}),
        ("alg-from-header", {CONFUSION_VARIANT}),
    ],
)
def test_each_mistake_lets_through_exactly_its_variants(mistake: demo_jwt.Mistake, accepted: set[str]) -> None:
    # Given every JWT variant of a valid demo token, and the static expired one
    variants = (*EXPIRED_VARIANTS, *WRONG_VARIANTS, CONFUSION_VARIANT)
    tokens = {variant: mint(variant, VALID, SETTINGS, NOW)[0] for variant in variants}
    tokens["expired"] = EXPIRED

    let_through = {variant for variant, token in tokens.items() if demo_jwt.careless_role(token, SECRET, mistake, PUBLIC_PEM)}

    assert let_through == accepted


@pytest.mark.parametrize("mistake", ["alg-none", "unverified", "exp-unchecked", "iss-aud-unchecked"])
def test_hs256_verifiers_still_take_the_demo_token(mistake: demo_jwt.Mistake) -> None:
    assert demo_jwt.careless_role(VALID, SECRET, mistake, PUBLIC_PEM) == "admin"


def test_alg_from_header_takes_rs256_from_the_key_owner_only() -> None:
    # Given the claims of a demo token, signed RS256 by the key's owner and by a stranger
    claims = jwt.decode(VALID, options={"verify_signature": False})
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    owned = jwt.encode(claims, PRIVATE_KEY, algorithm="RS256")
    foreign = jwt.encode(claims, stranger, algorithm="RS256")

    # Then the verifier does check RS256 signatures: its mistake is HS256 only
    assert demo_jwt.careless_role(owned, SECRET, "alg-from-header", PUBLIC_PEM) == "admin"
    assert demo_jwt.careless_role(foreign, SECRET, "alg-from-header", PUBLIC_PEM) is None


def test_new_public_pem_is_an_rsa_public_key() -> None:
    key = serialization.load_pem_public_key(demo_jwt.new_public_pem())

    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048


def test_tokens_are_unique_and_carry_the_role() -> None:
    again = demo_jwt.issue("admin", ("items:read",), SECRET, NOW, 3600)

    assert again != VALID
    assert demo_jwt.careless_role("not-a-jwt", SECRET, "unverified") is None
