"""Tests for conformance.variants and the probes cases.py builds from them."""

from __future__ import annotations

import base64

import pytest

from conformance.cases import (
    MissingCredential,
    build_probe,
    generate_cases,
    generated_cases,
)
from conformance.model import (
    ApiKeyPlacement,
    BasicCredential,
    Case,
    Endpoint,
    JwtSettings,
    LoginRequest,
    Secret,
    Target,
    TokenSource,
)
from conformance.variants import expired_variants, malformed_variants, wrong_variants

ITEMS = Endpoint("GET", "/items")
ADMIN_ONLY = Endpoint("DELETE", "/items/1", ("admin",))
TOKEN = "Adm1n-token-abcdefghijklmnopqrstuvwxyz"
READER = "reader-token-0123456789abcdefghijklmn"


def bearer(**extra: object) -> Target:
    return Target("t", "bearer", "http://127.0.0.1:1", (ITEMS, ADMIN_ONLY), {"admin": Secret(TOKEN), "reader": Secret(READER)}, **extra)  # type: ignore[arg-type]


def basic() -> Target:
    return Target("t", "basic", "http://127.0.0.1:1", (ITEMS,), {"admin": BasicCredential("jürgen", Secret("pässwörd"))})


def probe(target: Target, kind: str, variant: str | None, endpoint: Endpoint = ADMIN_ONLY) -> tuple[str, str]:
    built = build_probe(target, Case("t", endpoint, kind, variant))  # type: ignore[arg-type]
    (name, value), = built.headers
    return name, value


# Which variants each target gets: from its description only.

def test_variants_per_scheme() -> None:
    assert wrong_variants(bearer()) == ("random-token", "truncated", "flipped-char", "misplaced")
    assert wrong_variants(basic()) == ("wrong-password", "unknown-user", "empty-password", "colon-in-user")
    assert "latin-1" in malformed_variants(basic())
    assert expired_variants(bearer()) == (None,)


def test_declared_invalid_credentials_become_wrong_cases_of_their_own() -> None:
    # Given a target that names a revoked token and a token for an unknown role
    target = bearer(invalid={"revoked": Secret("revoked-" + TOKEN), "unknown-role": Secret("nobody-" + TOKEN)})

    # Then each is a wrong case after the suite's own, sent as it is, and only masked in words
    assert wrong_variants(target)[-2:] == ("revoked", "unknown-role")
    assert "wrong:revoked" in [c.id for c in generate_cases(target)]
    built = build_probe(target, Case("t", ITEMS, "wrong", "revoked"))
    assert built.headers == (("Authorization", f"Bearer revoked-{TOKEN}"),)
    assert "'revoked'" in built.sent
    assert TOKEN not in built.sent


def test_jwt_targets_declare_jwt_variants() -> None:
    target = bearer(jwt=JwtSettings())

    assert wrong_variants(target)[4:] == ("bad-signature", "alg-none", "signature-stripped", "tampered-claims", "foreign-issuer", "wrong-audience")
    assert expired_variants(target) == (None, "exp-passed", "not-yet-valid")
    assert {c.id for c in generate_cases(target)} >= {"wrong:alg-none", "expired:exp-passed"}


def test_cases_of_run_time_credentials_need_no_request() -> None:
    # Collection must not log in: IDs come from the file alone.
    login = LoginRequest("POST", "/login", TokenSource("json", "token"))
    target = Target("t", "bearer", "http://127.0.0.1:1", (ITEMS,), {"web": login})

    assert {"valid:web", "missing"} <= {c.id for c in generate_cases(target)}
    assert [c.id for c in generated_cases(target)] == ["malformed:generated"]
    with pytest.raises(TypeError):
        build_probe(target, Case("t", ITEMS, "valid", "web"))


# Tokens: derived from the endpoint's valid credential.

def test_truncated_and_flipped_derive_from_the_controls_token() -> None:
    truncated = probe(bearer(), "wrong", "truncated")[1].removeprefix("Bearer ")
    flipped = probe(bearer(), "wrong", "flipped-char")[1].removeprefix("Bearer ")

    assert TOKEN.startswith(truncated) and len(truncated) == len(TOKEN) // 2
    assert len(flipped) == len(TOKEN) and sum(a != b for a, b in zip(flipped, TOKEN, strict=True)) == 1


def test_random_token_has_the_shape_of_a_real_one() -> None:
    value = probe(bearer(), "wrong", "random-token")[1].removeprefix("Bearer ")

    assert len(value) == len(TOKEN) and value != TOKEN
    assert set(value) <= set(TOKEN) | set("-._~+/")


def test_misplaced_sends_another_roles_token_where_none_is_read() -> None:
    assert probe(bearer(), "wrong", "misplaced") == ("Proxy-Authorization", f"Bearer {READER}")

    keyed = Target("t", "api_key", "http://127.0.0.1:1", (ITEMS,), {"a": Secret(TOKEN), "b": Secret(READER)}, api_key=ApiKeyPlacement("header", "X-API-Key"))
    assert probe(keyed, "wrong", "misplaced", ITEMS) == ("X-Auth-Token", READER)


def keyed(location: str, name: str) -> Target:
    credentials = {"a": Secret(TOKEN), "b": Secret(READER)}
    return Target("t", "api_key", "http://127.0.0.1:1", (ITEMS,), credentials, api_key=ApiKeyPlacement(location, name))  # type: ignore[arg-type]


def test_query_key_travels_as_a_parameter_only() -> None:
    # Given a key read from ?api_key=
    target = keyed("query", "api_key")

    # Then the valid key is the one query parameter, and no header or cookie carries it
    valid = build_probe(target, Case("t", ITEMS, "valid", "a"))
    assert (valid.params, valid.headers, valid.cookies) == ((("api_key", TOKEN),), (), ())
    assert valid.url == "http://127.0.0.1:1/items"
    assert valid.sent == "query api_key: a's credential <38 chars>"

    # And misplaced sends another role's valid key under a name the API does not read
    misplaced = build_probe(target, Case("t", ITEMS, "wrong", "misplaced"))
    assert (misplaced.params, misplaced.headers) == ((("X-Auth-Token", READER),), ())
    assert READER not in misplaced.sent


def test_misplaced_query_key_avoids_the_apis_own_name() -> None:
    # An API reading ?token= must not get the valid key under "token" by chance.
    misplaced = build_probe(keyed("query", "X-Auth-Token"), Case("t", ITEMS, "wrong", "misplaced"))

    assert misplaced.params == (("X-API-Key", READER),)


def test_cookie_key_is_sent_percent_encoded() -> None:
    target = keyed("cookie", "session_key")

    valid = build_probe(target, Case("t", ITEMS, "valid", "a"))
    garbage = build_probe(target, Case("t", ITEMS, "malformed", "garbage"))

    assert (valid.cookies, valid.headers, valid.params) == ((("session_key", TOKEN),), (), ())
    # A cookie-octet excludes DQUOTE, comma and space (RFC 6265 §4.1.1).
    assert garbage.cookies == (("session_key", "not%20a%20%22key%22%2C"),)


def test_variant_descriptions_never_show_the_token() -> None:
    for variant in wrong_variants(bearer()):
        sent = build_probe(bearer(), Case("t", ADMIN_ONLY, "wrong", variant)).sent
        assert TOKEN not in sent and READER not in sent, variant


# Basic: UTF-8, and the mistakes RFC 7617 names.

def decoded(value: str) -> bytes:
    assert value.startswith("Basic ")
    return base64.b64decode(value.removeprefix("Basic "))


def test_valid_basic_is_utf8() -> None:
    assert decoded(probe(basic(), "valid", "admin", ITEMS)[1]) == "jürgen:pässwörd".encode()


def test_basic_variants_break_one_thing_each() -> None:
    latin1 = decoded(probe(basic(), "malformed", "latin-1", ITEMS)[1])
    with pytest.raises(UnicodeDecodeError):
        latin1.decode("utf-8")
    assert decoded(probe(basic(), "wrong", "empty-password", ITEMS)[1]) == "jürgen:".encode()
    assert decoded(probe(basic(), "wrong", "colon-in-user", ITEMS)[1]).count(b":") == 2
    assert b":" not in decoded(probe(basic(), "malformed", "no-colon", ITEMS)[1])


# Digest: answered by the transport, never built by hand.

def test_digest_variants_hand_credentials_to_the_transport() -> None:
    target = Target("t", "digest", "http://127.0.0.1:1", (ITEMS,), {"u": BasicCredential("user", Secret("passwd"))})

    valid = build_probe(target, Case("t", ITEMS, "valid", "u"))
    wrong = build_probe(target, Case("t", ITEMS, "wrong", "wrong-password"))

    assert valid.digest == BasicCredential("user", Secret("passwd")) and valid.headers == ()
    assert wrong.digest is not None and wrong.digest.username == "user" and wrong.digest.password != Secret("passwd")


# JWT variants: skipped with the reason when they cannot be made.

def test_jwt_variant_of_an_opaque_token_is_skipped() -> None:
    with pytest.raises(MissingCredential) as excinfo:
        build_probe(bearer(jwt=JwtSettings()), Case("t", ITEMS, "wrong", "alg-none"))

    assert "is not a JWT" in str(excinfo.value)


def test_flipped_jwt_changes_its_signature_only() -> None:
    jwt_token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
    target = Target("t", "bearer", "http://127.0.0.1:1", (ITEMS,), {"admin": Secret(jwt_token)})

    flipped = probe(target, "wrong", "flipped-char", ITEMS)[1].removeprefix("Bearer ")

    head, body, signature = flipped.split(".")
    assert f"{head}.{body}." == jwt_token.rsplit(".", 1)[0] + "."
    assert signature != jwt_token.rsplit(".", 1)[1]
