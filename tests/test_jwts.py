"""Tests for conformance.jwts: each JWT variant is broken in exactly the way it names."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
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


def pem(key: PrivateKeyTypes) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def rsa_pem() -> str:
    return pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@dataclass(frozen=True)
class Signer:
    """How an API signs and checks its tokens: the settings the suite gets, and the verifying key."""

    algorithm: str
    settings: JwtSettings
    verifying_key: str

    @property
    def valid(self) -> str:
        """A valid token the API issued, with a kid the variants must keep."""
        assert self.settings.key is not None
        return jwt.encode(CLAIMS, self.settings.key.reveal(), algorithm=self.algorithm, headers={"kid": "k1"})

    def verify(self, token: str, leeway: float = 0) -> dict[str, object]:
        """What a careful API does with a token: only its own algorithm, every claim checked."""
        return jwt.decode(token, self.verifying_key, algorithms=[self.algorithm], audience=AUDIENCE, issuer=ISSUER, leeway=leeway)


def _asymmetric(algorithm: str, private: PrivateKeyTypes) -> Signer:
    public = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return Signer(algorithm, JwtSettings(Secret(pem(private)), algorithm), public.decode())


# Keys are drawn once per test run: an RSA key takes a moment to make.
SIGNERS = {
    "HS256": Signer("HS256", SETTINGS, KEY),
    "RS256": _asymmetric("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    "ES256": _asymmetric("ES256", ec.generate_private_key(ec.SECP256R1())),
}


@pytest.fixture(params=list(SIGNERS))
def signer(request: pytest.FixtureRequest) -> Signer:
    """Each way an API may sign: an HMAC secret, or a PEM private key checked with its public key."""
    return SIGNERS[request.param]


def test_valid_token_verifies(signer: Signer) -> None:
    assert verify(VALID)["sub"] == "admin"
    assert signer.verify(signer.valid)["sub"] == "admin"


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
def test_variant_is_refused_for_its_own_reason(signer: Signer, variant: str, error: type[Exception]) -> None:
    valid = signer.valid
    token, description = mint(variant, valid, signer.settings, NOW)

    # The error names the one claim the variant breaks, so a re-signed
    # variant's signature verified with the API's own (public) key.
    with pytest.raises(error):
        signer.verify(token)
    assert signer.settings.key is not None
    assert signer.settings.key.reveal() not in description and valid not in description


@pytest.mark.parametrize("variant", ["exp-passed", "not-yet-valid", "foreign-issuer", "wrong-audience"])
def test_resigned_variant_keeps_the_apis_algorithm(signer: Signer, variant: str) -> None:
    token, _ = mint(variant, signer.valid, signer.settings, NOW)

    assert jwt.get_unverified_header(token)["alg"] == signer.algorithm
    # Signed by the API's key: the signature holds once the broken claim is let through.
    claims = jwt.decode(
        token,
        signer.verifying_key,
        algorithms=[signer.algorithm],
        options={"verify_exp": False, "verify_nbf": False, "verify_aud": False, "verify_iss": False},
    )
    assert claims["sub"] == "admin"


def test_variants_keep_the_header_and_other_claims(signer: Signer) -> None:
    # Re-signed variants change one claim and keep the rest, kid included.
    valid = signer.valid
    token, _ = mint("foreign-issuer", valid, signer.settings, NOW)

    assert jwt.get_unverified_header(token)["kid"] == "k1"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims == {**CLAIMS, "iss": FOREIGN_ISSUER}
    wrong_aud = jwt.decode(mint("wrong-audience", valid, signer.settings, NOW)[0], options={"verify_signature": False})
    assert wrong_aud["aud"] == WRONG_AUDIENCE


def test_expired_variant_is_past_any_leeway(signer: Signer) -> None:
    token, _ = mint("exp-passed", signer.valid, signer.settings, NOW)

    assert jwt.decode(token, options={"verify_signature": False})["exp"] <= NOW - 3600
    with pytest.raises(jwt.ExpiredSignatureError):
        signer.verify(token, leeway=600)


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
