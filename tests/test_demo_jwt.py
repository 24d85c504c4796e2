"""Tests for conformance.demo_jwt: the demos' tokens and the JWT mistakes demo-broken plants."""

from __future__ import annotations

import time

import pytest

from conformance import demo_jwt
from conformance.jwts import EXPIRED_VARIANTS, WRONG_VARIANTS, mint
from conformance.model import JwtSettings, Secret

SECRET = demo_jwt.new_secret()
NOW = time.time()
VALID = demo_jwt.issue("admin", ("items:read",), SECRET, NOW, 3600)
EXPIRED = demo_jwt.issue("admin", ("items:read",), SECRET, NOW, -3600)
SETTINGS = JwtSettings(Secret(SECRET), demo_jwt.ALGORITHM)


@pytest.mark.parametrize(
    ("mistake", "accepted"),
    [
        ("alg-none", {"alg-none"}),
        ("unverified", {"bad-signature", "alg-none", "signature-stripped", "tampered-claims"}),
        ("exp-unchecked", {"exp-passed", "not-yet-valid", "expired"}),
    ],
)
def test_each_mistake_lets_through_exactly_its_variants(mistake: demo_jwt.Mistake, accepted: set[str]) -> None:
    # Given every JWT variant of a valid demo token, and the static expired one
    tokens = {variant: mint(variant, VALID, SETTINGS, NOW)[0] for variant in (*EXPIRED_VARIANTS, *WRONG_VARIANTS)}
    tokens["expired"] = EXPIRED

    let_through = {variant for variant, token in tokens.items() if demo_jwt.careless_role(token, SECRET, mistake)}

    assert let_through == accepted
    assert demo_jwt.careless_role(VALID, SECRET, mistake) == "admin"


def test_tokens_are_unique_and_carry_the_role() -> None:
    again = demo_jwt.issue("admin", ("items:read",), SECRET, NOW, 3600)

    assert again != VALID
    assert demo_jwt.careless_role("not-a-jwt", SECRET, "unverified") is None
